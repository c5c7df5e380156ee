"""The long-running daemon: the due-deadline sweeper, the outbox relay, heartbeats, metrics.

May import: the service, handlers, engine, persistence's verbs. Never api or cli.
"""
