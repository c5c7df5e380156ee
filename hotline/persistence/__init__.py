"""Tables, the SQL store (SQLite and PostgreSQL) and the alembic migrations."""
