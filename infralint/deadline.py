"""Time budgets, so one pathological file or object cannot stall a scan: ``deadline`` for one
file's parse, ``Watchdog`` for each rule on each object.

The budget is a SIGALRM timer (no threads): the handler raises ``DeadlineExceeded`` in the
main thread at the next bytecode. C code (libyaml) is not interrupted mid-call, so the input
caps (file size, alias expansion, nesting depth) stay the first line of defence. Off the main
thread, or where the platform has no interval timer, the budget is not enforced.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_SECONDS = 10.0


class DeadlineExceeded(BaseException):
    """Raised when the budget runs out. A BaseException so that parsers' ``except Exception``
    (which turn bad input into findings) do not swallow it."""


def enforceable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise DeadlineExceeded inside the block once SECONDS have passed (None or <= 0: no limit)."""
    if not seconds or seconds <= 0 or not enforceable():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise DeadlineExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Watchdog:
    """A time budget for each of many short calls (a rule on one object) under one timer.

    A call marks its start by setting ``started``; a periodic tick raises DeadlineExceeded in
    a call that has run past the budget. Marking is an assignment, not a system call, so every
    (rule, object) pair can be guarded at no measurable cost. Clear ``started`` when the call ends.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self.started: float | None = None
        self._previous: object = None
        self._armed = False

    def _tick(self, signum: int, frame: object) -> None:
        started = self.started
        if started is not None and self.seconds is not None and time.monotonic() - started > self.seconds:
            self.started = None  # one raise per call, even if the handler runs again before it unwinds
            raise DeadlineExceeded

    def __enter__(self) -> Watchdog:
        if self.seconds is not None and enforceable():
            interval = min(self.seconds / 4, 0.25)
            self._previous = signal.signal(signal.SIGALRM, self._tick)
            signal.setitimer(signal.ITIMER_REAL, interval, interval)
            self._armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.started = None
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]
            self._armed = False
