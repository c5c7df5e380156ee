"""While a replay runs the youngest generation is collected less often; once the last of
several replays (threads of the API) has finished, the thresholds are what they were."""

from __future__ import annotations

import gc

from hotline.simulation import garbage


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
