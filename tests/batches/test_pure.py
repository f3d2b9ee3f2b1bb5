"""The batch status table and the batch settings, without a database."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from pydantic import ValidationError

from api.batches.membership import LOCAL_TZ
from api.batches.proposals import proposal_day
from api.batches.status import BATCH_MOVES, BatchStatus, batch_sources, can_move_batch
from api.core.config import Settings

pytestmark = pytest.mark.pure


def test_a_batch_moves_forward_only_along_its_table() -> None:
    assert can_move_batch("open", "packing")
    assert can_move_batch("ready", "handed_over")
    assert can_move_batch("ready", "packing")
    assert not can_move_batch("packing", "handed_over")  # ready first
    assert not can_move_batch("handed_over", "open")
    assert not can_move_batch("closed", "open")
    assert not can_move_batch("open", "lost")
    assert BATCH_MOVES[BatchStatus.CLOSED] == frozenset()
    assert batch_sources(BatchStatus.HANDED_OVER) == ["ready"]


def test_cut_off_and_window_settings() -> None:
    settings = Settings(batch_cutoff="17:30", batch_window="07:00-09:30")
    assert settings.batch_cutoff_time() == time(17, 30)
    assert settings.batch_window_times() == (time(7), time(9, 30))
    assert Settings().batch_window_times() == (time(8), time(11))
    for bad in ({"batch_cutoff": "5pm"}, {"batch_window": "11:00-08:00"}, {"batch_window": "8"}):
        with pytest.raises(ValidationError):
            Settings(**bad)  # type: ignore[arg-type]


def test_the_proposal_day_is_tomorrow_in_vietnam_after_the_cut_off() -> None:
    cutoff = time(16)
    assert proposal_day(datetime(2026, 11, 29, 15, 59, tzinfo=LOCAL_TZ), cutoff) is None
    assert str(proposal_day(datetime(2026, 11, 29, 16, 0, tzinfo=LOCAL_TZ), cutoff)) == (
        "2026-11-30"
    )
    # 09:30 UTC is 16:30 in Hà Nội.
    utc = datetime.fromisoformat("2026-11-29T09:30:00+00:00")
    assert str(proposal_day(utc, cutoff)) == "2026-11-30"
