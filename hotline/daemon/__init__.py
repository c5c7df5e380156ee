"""The long-running daemon: the due-deadline sweeper (``sweeper``), the outbox relay
(``relay``), their APScheduler wiring (``scheduler``), heartbeats and metrics.

May import: the service, handlers, engine, persistence's verbs. Never api or cli.
"""
