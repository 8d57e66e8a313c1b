"""Benchmark: importing a school's student roster (30,000 rows) against the bare insert.

Seeds 20 units with 40 classes each (four cohorts), writes a 30,000-row roster CSV as Excel
saves it (GBK by default, or UTF-8 with a BOM; Chinese names, every fifth row with an
e-mail address), then, in the same run and each time into a fresh database, measures

* the floor: the same 30,000 user rows inserted with SQLAlchemy Core executemany
  (``conn.execute(insert(user_table), rows)``, one transaction),
* ``imports.preview_students``: parse and check only (what the web preview costs),
* ``imports.import_students`` end to end: parse, check, one bulk insert, one audit event,

on SQLite (a file in a temporary directory) and, when a server answers at
TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test), on PostgreSQL in a
database created and dropped for each measurement. Prints the medians of ``--runs`` runs,
the ratio to the floor and the statements the import issues.

    .venv/bin/python bench/roster_import.py [--rows 30000] [--runs 3] [--encoding gbk|utf-8-sig]

Last line: ``roster_import: sqlite X s (floor Y s, ×R); postgresql …; 30,000 students``.
Target: under 30 s on either database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
UNITS = [
    ("CS", "计算机科学与技术学院"), ("SE", "软件学院"), ("EE", "电子信息工程学院"), ("ME", "机械工程学院"),
    ("CE", "土木工程学院"), ("CH", "化学化工学院"), ("MA", "数学科学学院"), ("PH", "物理学院"),
    ("EC", "经济学院"), ("MG", "管理学院"), ("LW", "法学院"), ("FL", "外国语学院"),
    ("LT", "文学院"), ("HI", "历史文化学院"), ("AR", "艺术学院"), ("MD", "医学院"),
    ("BI", "生命科学学院"), ("EN", "环境学院"), ("MS", "材料科学与工程学院"), ("JN", "新闻传播学院"),
]
COHORTS = (2022, 2023, 2024, 2025)
CLASSES_PER_COHORT = 10
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "慕容"]
GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然子涵欣怡梓轩雨萱一诺思远"
    "嘉怡晨阳博文佳琪"
)


# --------------------------------------------------------------------------- data


def class_name(code: str, cohort: int, n: int) -> str:
    return f"{code}{cohort % 100:02d}{n:02d}班"


def seed(conn) -> None:
    """Units with ids 1..20 and their classes, in the same order every time."""
    from app.models import SchoolClass, Unit

    conn.execute(insert(Unit.__table__), [{"id": i, "code": c, "name": n} for i, (c, n) in enumerate(UNITS, 1)])
    conn.execute(insert(SchoolClass.__table__), [
        {"unit_id": i, "name": class_name(code, cohort, n), "cohort": cohort}
        for i, (code, _) in enumerate(UNITS, 1) for cohort in COHORTS for n in range(1, CLASSES_PER_COHORT + 1)
    ])
    if conn.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        conn.execute(sa.text("SELECT setval('unit_id_seq', (SELECT max(id) FROM unit))"))


def class_ids(conn) -> dict[tuple[int, str], int]:
    from app.models import SchoolClass

    rows = conn.execute(sa.select(SchoolClass.id, SchoolClass.unit_id, SchoolClass.name))
    return {(unit_id, name): cid for cid, unit_id, name in rows}


def roster_rows(n: int, seed_value: int = 11) -> list[dict]:
    rng = random.Random(seed_value)
    rows = []
    for i in range(n):
        unit = i % len(UNITS) + 1
        code = UNITS[unit - 1][0]
        cohort = COHORTS[(i // len(UNITS)) % len(COHORTS)]
        surname = rng.choice(COMPOUND) if rng.random() < 0.02 else rng.choice(SURNAMES)
        name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        number = f"{cohort}{unit:02d}{i:06d}"
        rows.append({
            "student_no": number, "name": name, "unit": code, "unit_id": unit, "cohort": cohort,
            "class": class_name(code, cohort, rng.randint(1, CLASSES_PER_COHORT)),
            "email": f"{number}@stu.example.edu.cn" if i % 5 == 0 else "",
        })
    return rows


def roster_csv(rows: list[dict], encoding: str) -> bytes:
    lines = ["学号,姓名,院系代码,班级,入学年级,邮箱"]
    lines += [f"{r['student_no']},{r['name']},{r['unit']},{r['class']},{r['cohort']},{r['email']}" for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def user_values(rows: list[dict], classes: dict) -> list[dict]:
    """What the floor inserts: the same users the import creates."""
    from app.timeutil import utcnow

    now = utcnow()
    return [{
        "username": r["student_no"], "password_hash": None, "display_name": r["name"], "role": "student",
        "student_no": r["student_no"], "unit_id": r["unit_id"],
        "class_id": classes[(r["unit_id"], r["class"])], "scope_unit_id": None,
        "email": r["email"] or None, "active": True, "created_at": now,
    } for r in rows]


# --------------------------------------------------------------------------- databases


def _driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def postgres_base() -> str | None:
    base = _driver_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    try:
        engine = sa.create_engine(base, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 — no server: the PostgreSQL half is skipped
        print(f"PostgreSQL at {base.split('@')[-1]} not reachable ({type(exc).__name__}); SQLite only")
        return None
    return base


@contextmanager
def fresh_database(backend: str, pg_base: str | None, folder: Path):
    if backend == "sqlite":
        path = folder / f"{uuid.uuid4().hex[:8]}.db"
        yield f"sqlite:///{path}"
        path.unlink(missing_ok=True)
        return
    name = f"st_bench_roster_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(pg_base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def school_app(url: str):
    """An app on a new database holding the schema, the units and the classes."""
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            seed(conn)
        try:
            yield app, db
        finally:
            db.session.remove()
            db.engine.dispose()


# --------------------------------------------------------------------------- measuring


class Statements:
    """A before_cursor_execute listener that counts."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def run_backend(backend: str, pg_base: str | None, folder: Path, rows: list[dict], data: bytes,
                runs: int) -> dict:
    from app.models import User
    from app.services import imports

    floor_s, preview_s, import_s, statements = [], [], [], []
    for _ in range(runs):
        with fresh_database(backend, pg_base, folder) as url, school_app(url) as (_app, db):
            with db.engine.connect() as conn:
                values = user_values(rows, class_ids(conn))
            t = time.perf_counter()
            with db.engine.begin() as conn:
                conn.execute(insert(User.__table__), values)
            floor_s.append(time.perf_counter() - t)
        with fresh_database(backend, pg_base, folder) as url, school_app(url) as (_app, db):
            t = time.perf_counter()
            preview = imports.preview_students(db.session, None, data)
            preview_s.append(time.perf_counter() - t)
            assert preview.ok, preview.errors[:5]
            db.session.rollback()
            counter = Statements()
            event.listen(db.engine, "before_cursor_execute", counter)
            t = time.perf_counter()
            result = imports.import_students(db.session, None, data)
            import_s.append(time.perf_counter() - t)
            event.remove(db.engine, "before_cursor_execute", counter)
            statements.append(counter.count)
            assert result.count == len(rows)
            assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == len(rows)
    return {
        "backend": backend, "floor": statistics.median(floor_s), "preview": statistics.median(preview_s),
        "import": statistics.median(import_s), "statements": max(statements), "runs": runs,
        "all_import": import_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--encoding", default="gbk", choices=("gbk", "utf-8-sig"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="st-bench-roster-"))
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["SIGNING_KEY_DIR"] = str(folder / "keys")

    rows = roster_rows(args.rows)
    data = roster_csv(rows, args.encoding)
    (folder / "roster.csv").write_bytes(data)
    print(f"roster: {len(rows):,} students, {len(UNITS)} units, {len(UNITS) * len(COHORTS) * CLASSES_PER_COHORT} "
          f"classes; {len(data) / 1024:,.0f} KB of {args.encoding} CSV ({folder / 'roster.csv'})")
    backends = ["sqlite"]
    pg_base = postgres_base()
    if pg_base:
        backends.append("postgresql")
    results = [run_backend(b, pg_base, folder, rows, data, args.runs) for b in backends]
    print(f"\nmedian of {args.runs} runs, each into a fresh database")
    print(f"  {'':<12}{'floor s':>10}{'preview s':>11}{'import s':>10}{'× floor':>9}{'statements':>12}")
    for r in results:
        print(f"  {r['backend']:<12}{r['floor']:>10.2f}{r['preview']:>11.2f}{r['import']:>10.2f}"
              f"{r['import'] / r['floor']:>9.1f}{r['statements']:>12}")
    print("  floor: Core executemany of the same rows; preview: parse + check; import: end to end")
    summary = "; ".join(
        f"{r['backend']} {r['import']:.2f} s (floor {r['floor']:.2f} s, ×{r['import'] / r['floor']:.1f})"
        for r in results
    )
    print(f"roster_import: {summary}; {len(rows):,} students")
    if any(r["import"] >= 30 for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
