"""Alembic migrations, run from code: ``hotline init`` calls ``upgrade``.

To add one after changing ``tables.py``:
``HOTLINE_DB_URL=sqlite:///dev.db alembic -c hotline/persistence/migrations/alembic.ini
revision --autogenerate -m "what changed"``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent
LOCK_KEY = 4712345  # the PostgreSQL advisory lock `hotline init` holds while it migrates


def config() -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` up to ``revision``."""
    cfg = config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Replicas may all run `hotline init` at once: one migrates, the others then wait
            # and find the schema at head.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
