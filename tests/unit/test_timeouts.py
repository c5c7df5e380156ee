"""The wait limits read from HOTLINE_* variables: durations in PostgreSQL's units."""

from __future__ import annotations

import pytest

from hotline import errors
from hotline.persistence import timeouts


@pytest.mark.parametrize(
    ("text", "ms"), [("500ms", 500), ("5s", 5000), ("2min", 120_000), ("250", 250), ("0", 0)]
)
def test_a_duration_is_read_in_postgres_units(text, ms):
    assert timeouts.millis(text, "HOTLINE_PG_LOCK_TIMEOUT") == ms


def test_a_bad_duration_is_a_clear_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("HOTLINE_PG_LOCK_TIMEOUT", "soon")
    with pytest.raises(errors.HotlineError, match="HOTLINE_PG_LOCK_TIMEOUT='soon' is not a dur"):
        timeouts.Limits.from_env()
