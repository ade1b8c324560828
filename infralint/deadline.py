"""A time budget for one file's parse, so a pathological file cannot stall a scan.

The budget is a SIGALRM timer (no threads): the handler raises ``DeadlineExceeded`` in the
main thread at the next bytecode. C code (libyaml) is not interrupted mid-call, so the input
caps (file size, alias expansion, nesting depth) stay the first line of defence. Off the main
thread, or where the platform has no interval timer, the budget is not enforced.
"""

from __future__ import annotations

import signal
import threading
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
