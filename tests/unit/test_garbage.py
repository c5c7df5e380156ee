"""While a batch (a replay, a sweep) runs the youngest generation is collected less often; once
the last of several batches (threads) has finished, the thresholds are what they were."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

from hotline import garbage
from hotline.clock import FrozenClock
from hotline.daemon.sweeper import Sweeper
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service


def test_replays_raise_the_threshold_and_the_last_to_finish_puts_it_back():
    before = gc.get_threshold()
    with garbage.fewer_collections():
        assert gc.get_threshold()[0] >= garbage.YOUNG
        with garbage.fewer_collections():  # a second replay, started while the first runs
            assert gc.get_threshold()[0] >= garbage.YOUNG
        assert gc.get_threshold()[0] >= garbage.YOUNG  # the first still runs
    assert gc.get_threshold() == before


def test_a_replay_that_fails_puts_the_threshold_back():
    before = gc.get_threshold()
    try:
        with garbage.fewer_collections():
            raise RuntimeError("a refused draft")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_a_sweep_fires_its_batch_with_fewer_collections(tmp_path, monkeypatch):
    # Given a ticket whose response deadline is overdue, on a real SQLite file
    clock = FrozenClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    store = SqlStore(f"sqlite:///{tmp_path / 'hotline.db'}")
    store.migrate()
    service = Service(store, clock)
    service.install_shipped()
    service.submit(Intake(category="noise", summary="loud"))
    clock.advance(timedelta(days=3))
    seen = []
    fire = service.fire_deadlines
    monkeypatch.setattr(
        service, "fire_deadlines", lambda c: seen.append(gc.get_threshold()) or fire(c)
    )
    before = gc.get_threshold()

    # When the sweeper fires it
    fired = Sweeper(service, owner="test").sweep()

    # Then the batch fired with the youngest generation collected less often, and after it
    # the thresholds are back
    assert fired and seen and all(t[0] >= garbage.YOUNG for t in seen)
    assert gc.get_threshold() == before
