"""The HTTP API for integrators: JSON under /api/v1, Open311 GeoReport v2, /metrics.

A thin shell over ``hotline.service.Service``, like the CLI: ``app.create_app(service)``.
May import: everything below it (service, reports, admin, daemon, engine), and of persistence
only its public verbs (see tests/unit/test_layout.py); never the store's internals or the CLI.
This ``__init__`` imports nothing (the CLI's ``--help`` shows the defaults without FastAPI).
"""

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8345
