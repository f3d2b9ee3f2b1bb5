"""Id counters that do not repeat across simulator restarts or side-by-side simulator processes.

A simulator keeps its orders in memory, but the database that heard of its ids persists: a
restarted `make run` whose TikTok Shop simulator numbered its notifications from the same base
again would have every webhook dropped as a duplicate, and a restarted Viettel Post simulator
would hand out a waybill we already hold. So an unseeded counter starts from the time it was
created, in microseconds since 2026-01-01, and steps by `LANES`, keeping the creating process's
lane (its pid modulo `LANES`) in the low digits:

- a later start begins above everything an earlier one issued, unless that one issued more than
  one id per microsecond of its life (a simulator manages a few thousand a second at most);
- two processes started in the same microsecond differ by lane; two counters created in one
  process never share a start (`_claim` moves the later one on by a millisecond).

A test or benchmark that wants reproducible ids passes an explicit `base`: the counter then
issues base + 1, base + 2, … as before. `period_ms` wraps the start time (Shopee's order number
carries the date, so only the time of day has to be told apart).
"""

from __future__ import annotations

import os
import threading
import time

LANES = 32
_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
_PER_MS = 1000

_lock = threading.Lock()
_last_ms = 0


def _claim() -> int:
    """Milliseconds since the epoch, never the same twice in this process."""
    global _last_ms
    with _lock:
        _last_ms = max(time.time_ns() // 1_000_000 - _EPOCH_MS, _last_ms + 1)
        return _last_ms


def max_unseeded(period_ms: int | None = None) -> int:
    """An upper bound of the numbers an unseeded counter issues (for fitting an id format)."""
    span_ms = period_ms if period_ms is not None else 1_000_000_000_000  # ~31 years
    return span_ms * _PER_MS * LANES


class IdSequence:
    """Numbers for one kind of id: `base + n` when seeded, else unique to this start (see above)."""

    def __init__(self, base: int | None = None, *, period_ms: int | None = None) -> None:
        if base is not None:
            self._next, self._step = base + 1, 1
            return
        start = _claim()
        if period_ms is not None:
            start %= period_ms
        self._next = start * _PER_MS * LANES + os.getpid() % LANES
        self._step = LANES

    def next(self) -> int:
        """The next number (never issued before by this counter)."""
        number = self._next
        self._next += self._step
        return number
