"""bench/scale.py's table, and its patience with another process seeding the same database."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench._scale_load import Result

COLUMNS = ("what", "DB", "n", "p50", "p95", "p50 x8", "p95 x8", "floor", "budget", "met")


@dataclass
class Row:
    what: str
    db: str
    alone: Result
    eight: Result
    floor: str
    budget: str
    met: bool | None  # None: a floor, no budget of its own


def ms(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def cells(row: Row) -> list[str]:
    errors = row.alone.errors + row.eight.errors
    met = "" if row.met is None else ("yes" if row.met else "NO")
    return [row.what, row.db, f"{row.alone.n}/{row.eight.n}" + (f" ({errors} err)" if errors else ""),
            ms(row.alone.p50), ms(row.alone.p95), ms(row.eight.p50), ms(row.eight.p95), row.floor, row.budget, met]


def print_table(rows: list[Row]) -> None:
    """Markdown-like, aligned; the errors' first answers below; last line the summary."""
    table = [list(COLUMNS)] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    numeric = {2, 3, 4, 5, 6}

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.rjust(w) if i in numeric else v.ljust(w)
                                 for i, (v, w) in enumerate(zip(values, widths, strict=True))) + " |"

    print(line(table[0]))
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for values in table[1:]:
        print(line(values))
    print("floor: the app's /healthz p95 (ms) · the bare SQL of the page's rows p95 (ms); for issuing the "
          "signed PDF render alone (median ms); for verifying the bare Flask view's req/s with 8 users")
    for r in rows:
        for result in (r.alone, r.eight):
            if result.first_error:
                print(f"error in {r.db} {r.what}: {result.first_error}")
    judged = [r for r in rows if r.met is not None]
    print(f"{sum(1 for r in judged if r.met)} of {len(judged)} budgets met")


def _seeders() -> list[int]:
    """Other processes running the big school's seed (its script), which drops the database first."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"_big_school.py" in command:
            found.append(int(entry.name))
    return found


def _pg_loading(url: str) -> bool:
    """Someone else is writing rows into this PostgreSQL database right now (a seed in progress)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    engine = sa.create_engine(parsed.set(database="postgres"))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND state = 'active'"
                " AND query ILIKE 'INSERT%'"), {"d": parsed.database}).scalar_one() > 0
    finally:
        engine.dispose()


def wait_for_other_seeds(url: str, log: Callable[[str], None], limit: float = 1800) -> None:
    """Wait while another process seeds: seeding here too would drop what it is writing."""
    deadline = time.time() + limit
    told = False
    while time.time() < deadline and (_seeders() or _pg_loading(url)):
        if not told:
            log("another process is seeding the big school: waiting for it")
            told = True
        time.sleep(5)
