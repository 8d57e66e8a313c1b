"""Rate limits: sign-in and verification, in memory and shared by several workers through Redis."""

from __future__ import annotations

import os

import pytest

from tests.conftest import make_test_app

# One Redis database per pytest-xdist worker (gw0 → 15, gw1 → 14, …): their flushes never meet.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER % 16}")


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unavailable at {REDIS_URL}: {exc}")


def test_workers_share_one_verify_budget_through_redis(tmp_path, backend):
    redis_or_skip()
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "VERIFY_RATE_LIMIT": "6 per minute",
    }
    # Two app instances stand for two gunicorn workers behind one address.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = make_test_app(backend, tmp_path / "a", settings).test_client()
    two = make_test_app(backend, tmp_path / "b", settings).test_client()
    codes = []
    for i in range(8):
        client = one if i % 2 == 0 else two
        codes.append(client.get("/api/v1/verify/ABCDEF-GHJKLM-NPQRST").status_code)
    assert codes[:6] == [404] * 6 and codes[6:] == [429, 429]


def test_in_memory_limits_are_per_process(tmp_path, backend):
    settings = {"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3 per minute"}
    client = make_test_app(backend, tmp_path, settings).test_client()
    codes = [client.get("/verify?serial=ABCDEF-GHJKLM-NPQRST").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]


def test_password_guessing_is_rate_limited(tmp_path, backend):
    settings = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}
    client = make_test_app(backend, tmp_path, settings).test_client()
    codes = [client.post("/api/v1/auth/token", json={"username": "admin", "password": f"guess{i}"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    again = client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert again.get_json()["error"]["code"] == "rate_limited"


def test_health_check_answers_even_when_a_client_is_rate_limited(tmp_path, backend):
    settings = {"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "1 per minute"}
    client = make_test_app(backend, tmp_path, settings).test_client()
    assert [client.get("/api/v1/verify/ABCDEF-GHJKLM-NPQRST").status_code for _ in range(2)] == [404, 429]
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_data(as_text=True) == "ok"


def test_local_storage_counts_a_fixed_window_and_forgets_it_when_it_ends(monkeypatch):
    """`local://` (the in-process store) through the library's public strategy API."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    import app.ratelimit as local

    now = [1_000_000.0]
    monkeypatch.setattr(local.time, "time", lambda: now[0])
    storage = storage_from_string("local://")
    assert isinstance(storage, local.LocalStorage) and storage.check()
    limiter = FixedWindowRateLimiter(storage)
    three = parse("3 per minute")
    assert [limiter.hit(three, "client", "a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three, "client", "b")  # another client has its own window
    assert limiter.get_window_stats(three, "client", "a").remaining == 0
    now[0] += 61
    assert limiter.test(three, "client", "a") and limiter.hit(three, "client", "a")
    storage.clear(three.key_for("client", "a"))
    assert limiter.get_window_stats(three, "client", "a").remaining == 3
    assert storage.reset() >= 1 and limiter.get_window_stats(three, "client", "b").remaining == 3


def test_local_storage_sweeps_stale_keys_without_a_thread(monkeypatch):
    import threading

    import app.ratelimit as local

    now = [1_000_000.0]
    monkeypatch.setattr(local.time, "time", lambda: now[0])
    threads = threading.active_count()
    storage = local.LocalStorage()
    for i in range(local.SWEEP_EVERY - 1):
        storage.incr(f"k{i}", 10)
    now[0] += 11
    storage.incr("last", 10)  # the sweep runs on this write
    assert storage.get("k1") == 0 and len(storage._counts) == 1
    assert threading.active_count() == threads
