"""bench/scale.py's load generator: requests that differ from one to the next (another student,
another transcript), one client or several at once, latencies per request.

Python threads, not wrk: wrk repeats one URL, and the point of these rows is that every request
is another user's or another transcript's. The client shares the machine's two cores with the
two gunicorn workers; the floors are measured through the same client, so they pay the same.
"""

from __future__ import annotations

import http.client
import itertools
import math
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench._serve import BIN, ROOT


@dataclass(frozen=True)
class Req:
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: bytes | None = None
    expect: int = 200


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # ms, in completion order
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    bytes: int = 0

    @property
    def n(self) -> int:
        return len(self.latencies)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else math.nan

    @property
    def p95(self) -> float:
        return quantile(self.latencies, 0.95)

    @property
    def rps(self) -> float:
        return self.n / self.seconds if self.seconds else math.nan

    @property
    def mean_bytes(self) -> float:
        return self.bytes / self.n if self.n else 0.0


def quantile(values: list[float], q: float) -> float:
    """Nearest rank: the value below which a fraction q of the requests finished."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def one(port: int, req: Req, timeout: float = 300.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(req.method, req.path, body=req.body, headers=dict(req.headers))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run(port: int, requests: Iterator[Req], *, clients: int, seconds: float, max_n: int,
        before: Callable[[Req], None] | None = None) -> Result:
    """Send requests from `requests` with `clients` at once until `seconds` have passed or `max_n`
    were sent; each client takes the next request when its last one has answered. A new
    connection per request: gunicorn's sync workers close each one anyway."""
    result = Result()
    lock = threading.Lock()
    sent = itertools.count()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                if next(sent) >= max_n:
                    return
                try:
                    req = next(requests)
                except StopIteration:
                    return
            if before is not None:
                before(req)
            t = time.perf_counter()
            try:
                status, body = one(port, req)
            except OSError as error:
                status, body = 0, str(error).encode()
            ms = (time.perf_counter() - t) * 1000
            with lock:
                result.latencies.append(ms)
                result.bytes += len(body)
                if status != req.expect:
                    result.errors += 1
                    if not result.first_error:
                        result.first_error = f"{req.method} {req.path[:60]} → {status} {body[:160]!r}"

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    return result


def cycle(items: list[Req], start: int = 0) -> Iterator[Req]:
    """The pool from `start` round and round (a pool smaller than the run repeats, in order)."""
    k = start
    while True:
        yield items[k % len(items)]
        k += 1


def timed(fn: Callable[[int], object], runs: int) -> list[float]:
    """Milliseconds of fn(i) for i in range(runs), after one untimed call (fn(runs))."""
    fn(runs)
    out = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


@contextmanager
def serve(target: str, port: int, env: dict, log_file: Path, workers: int = 2):
    """gunicorn with `workers` sync workers, as bench/_serve.gunicorn starts it, but waited for
    on a path that costs nothing (/healthz, or the floor's 404) with a patient timeout: on a
    loaded machine the first request of a fresh worker may take seconds. Its log goes to a file
    (a pipe nobody reads would fill and stall it), and a request may take minutes (--timeout):
    an office page slow under load is a figure, not a dead worker."""
    cmd = [str(BIN / "gunicorn"), target, "-b", f"127.0.0.1:{port}", "-w", str(workers), "--log-level",
           "warning", "--chdir", str(ROOT), "--timeout", "600", "--error-logfile", str(log_file)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"gunicorn did not start: {log_file.read_text()[-2000:]}")
            try:
                one(port, Req("/healthz"), timeout=30)
                break
            except OSError:
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)
