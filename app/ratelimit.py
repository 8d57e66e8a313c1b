"""Rate-limit storage for a single process, without the library's timer thread.

limits' MemoryStorage starts a new thread every 10 ms to expire keys; under load the GIL
hand-offs to that thread cost ~2 ms a request (measured with bench/verify.py). Counters
already expire when read, so this storage only sweeps stale keys every few thousand
writes, in the request's own thread. Several workers share limits through Redis instead
(RATELIMIT_STORAGE_URI=redis://…).
"""

from __future__ import annotations

from limits.storage import MemoryStorage

SWEEP_EVERY = 2000


class LocalMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["local"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self.writes = 0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread
        self.writes += 1
        if self.writes % SWEEP_EVERY == 0:
            self._MemoryStorage__expire_events()

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self.timer.cancel()
