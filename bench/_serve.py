"""Helpers for the benchmarks: a scratch instance of the app, gunicorn, and a load generator."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_env(port: int) -> tuple[dict, Path]:
    folder = Path(tempfile.mkdtemp(prefix="st-bench-"))
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{folder / 'bench.db'}"),
        "SIGNING_KEY_DIR": str(folder / "keys"),
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "VERIFY_RATE_LIMIT": "100000000 per minute",
    })
    return env, folder


@contextmanager
def gunicorn(target: str, port: int, env: dict, workers: int = 2):
    cmd = [str(BIN / "gunicorn"), target, "-b", f"127.0.0.1:{port}", "-w", str(workers),
           "--log-level", "warning", "--chdir", str(ROOT)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers; a 404 at / is fine
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str, seconds: float = 3.0, connections: int = 8) -> dict:
    """Requests per second and latency percentiles: wrk when installed, else Python threads."""
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{int(max(1, round(seconds)))}s", "--latency", url],
            capture_output=True, text=True, check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
        p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {"rps": rps, "p50": p50, "p99": p99, "errors": int(non2xx.group(1)) if non2xx else 0}
    return _python_load(url, seconds, connections)


def _python_load(url: str, seconds: float, connections: int) -> dict:
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    stop = time.time() + seconds

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        while time.time() < stop:
            t = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - t) * 1000)
            if response.status >= 400:
                errors[0] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99)], "errors": errors[0]}
