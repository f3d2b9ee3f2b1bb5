"""The frequent sweeps' routine lines are dropped; everything else arq says still reaches the log."""

from __future__ import annotations

import logging

import pytest

from api.core.logging import RoutineJobFilter

pytestmark = pytest.mark.pure

QUIET = RoutineJobFilter(frozenset({"sweep_inbox"}))


def record(level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("arq.worker", level, __file__, 1, msg, args, None)


def test_a_sweeps_start_and_finish_lines_are_dropped() -> None:
    assert not QUIET.filter(record(logging.INFO, "%6.2fs → %s(%s)%s", 0.01, "sweep_inbox", "", ""))
    assert not QUIET.filter(record(logging.INFO, "%6.2fs ← %s ● %s", 0.02, "sweep_inbox", None))
    assert not QUIET.filter(record(logging.INFO, "recording health: %s", "j_complete=1"))


def test_other_jobs_rung_sweeps_and_failures_still_log() -> None:
    assert QUIET.filter(
        record(logging.INFO, "%6.2fs → %s(%s)%s", 0.01, "abc:hand_off_shipment", "", "")
    )
    assert QUIET.filter(record(logging.INFO, "%6.2fs → %s(%s)%s", 0.01, "abc:sweep_inbox", "", ""))
    assert QUIET.filter(
        record(logging.INFO, "%6.2fs ↻ %s retrying job in %0.2fs", 1.0, "sweep_inbox", 2.0)
    )
    assert QUIET.filter(record(logging.ERROR, "%6.2fs ! %s failed", 1.0, "sweep_inbox"))
