"""`local://`: the rate-limit counters of a single process, without a timer thread.

limits' MemoryStorage starts a new thread every 10 ms to expire keys; under load the GIL
hand-offs to that thread cost ~2 ms a request (measured with bench/verify.py). This storage
implements the library's public `Storage` interface instead (the fixed-window counters
Flask-Limiter's default strategy uses): a counter expires when it is read, and stale keys
are swept every few thousand writes, in the request's own thread. Several workers share
limits through Redis instead (RATELIMIT_STORAGE_URI=redis://…); gunicorn.conf.py warns when
they would not.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SWEEP_EVERY = 2000


class LocalStorage(Storage):
    STORAGE_SCHEME = ["local"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counts: dict[str, int] = {}
        self._expires: dict[str, float] = {}
        self._lock = threading.Lock()
        self._writes = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def _live(self, key: str, now: float) -> bool:
        if self._expires.get(key, 0.0) > now:
            return True
        self._counts.pop(key, None)
        self._expires.pop(key, None)
        return False

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if not self._live(key, now):
                self._expires[key] = now + expiry  # a window starts with its first hit
            self._counts[key] = self._counts.get(key, 0) + amount
            self._writes += 1
            if self._writes % SWEEP_EVERY == 0:
                for stale in [k for k, at in self._expires.items() if at <= now]:
                    self._live(stale, now)
            return self._counts[key]

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0) if self._live(key, time.time()) else 0

    def get_expiry(self, key: str) -> float:
        with self._lock:
            return self._expires.get(key, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            self._expires.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
            self._expires.pop(key, None)
