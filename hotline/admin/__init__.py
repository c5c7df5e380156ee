"""Admins and auditors: definition versions and migration, history audit (verify, seal, export).

May import: the service, engine, persistence's verbs. Never api, cli or daemon.
This ``__init__`` imports nothing (the CLI's ``--help`` shows the default without the service).
"""

MIGRATION_BATCH = 200  # tickets moved per transaction by `hotline workflow migrate`
