"""Alembic environment: runs on the connection handed in by ``migrations.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from hotline.persistence import db, tables  # noqa: F401 - registers the tables

target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with db.create_engine(db.url_from_env()).begin() as conn:
        _run(conn)
