"""Tables, the SQL store (SQLite and PostgreSQL) and the alembic migrations.

This ``__init__`` imports nothing, so the CLI's ``--help`` shows the default URL without
loading SQLAlchemy.
"""

DEFAULT_URL = "sqlite:///hotline.db"
