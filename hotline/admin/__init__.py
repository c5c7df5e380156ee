"""Admins and auditors: definition versions and migration, history audit (verify, seal, export).

May import: the service, engine, persistence's verbs. Never api, cli or daemon.
"""
