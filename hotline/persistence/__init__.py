"""Tables, the SQL store (SQLite and PostgreSQL) and the alembic migrations: the only SQL.

``sql.SqlStore`` speaks domain verbs (load, create, update, claim_due…); query verbs
(``queries``, ``tokens``, ``whistles``, ``reports``, ``gauges``…) take the store and return
plain values. May import: the engine and errors. Never the service, or a room above it.

This ``__init__`` imports nothing, so the CLI's ``--help`` shows the default URL without
loading SQLAlchemy.
"""

DEFAULT_URL = "sqlite:///hotline.db"
# The largest id an id column holds on every backend (PostgreSQL INTEGER; SQLite holds more):
# ids above it cannot exist, so the store answers "unknown" for them instead of failing.
MAX_ID = 2**31 - 1
