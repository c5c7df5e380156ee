"""A JSON column reads as ``json.loads`` reads its text, whatever text the row holds: SQLite's
reader skips ``json.loads``'s own layers only for text holding exactly one JSON value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hotline.clock import FrozenClock
from hotline.persistence.rows import tickets
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

TEXTS = [
    '{"note": "\\u9053\\u8def \u7834\u635f", "list": [1, 2.5, null, true, false]}',
    ' {"padded": "with whitespace around"} \n',
    '{"big": 123456789012345678901234567890, "huge": 1e400, "nan": NaN}',
    '{"nested": {"a": {"b": [[], {}]}}, "same": 1, "same": 2}',
    "{}",
]


def stored(tmp_path):
    """A service on a SQLite file holding one ticket."""
    store = SqlStore(f"sqlite:///{tmp_path / 'hotline.db'}")
    store.migrate()
    service = Service(store, FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    service.install_shipped()
    return service, service.submit(Intake(category="water-supply", summary="no water"))


@pytest.mark.parametrize("text", TEXTS)
def test_a_json_column_reads_as_json_loads_reads_its_text(tmp_path, text):
    # Given a stored ticket whose fields column holds ``text`` (written by hand)
    service, ticket = stored(tmp_path)
    store = service.store
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tickets SET fields = ? WHERE id = ?", (text, ticket.id))

    # When it is read back, Then its fields are what json.loads makes of the text
    found = service.get(ticket.id).fields
    assert json.dumps(found, sort_keys=True) == json.dumps(json.loads(text), sort_keys=True)


def test_a_column_holding_more_than_one_value_fails_as_json_loads_fails(tmp_path):
    # Given a fields column holding two JSON values, one after the other (written by hand)
    service, ticket = stored(tmp_path)
    store = service.store
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE tickets SET fields = ? WHERE id = ?", ('{"a": 1} {}', ticket.id)
        )

    # When the column is read, Then it is refused as json.loads refuses it, not read as {"a": 1}
    with store.reading() as conn, pytest.raises(json.JSONDecodeError, match="Extra data"):
        conn.execute(sa.select(tickets.c.fields).where(tickets.c.id == ticket.id)).scalar_one()
