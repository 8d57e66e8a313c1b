"""Benchmark: issuing a 60-record transcript through the service layer, against the PDF
render alone (credentials.render_pdf), medians of several runs in the same process.

    .venv/bin/python bench/issue.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RECORDS = 60


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="st-bench-issue-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.db'}")
    os.environ["SIGNING_KEY_DIR"] = str(folder / "keys")
    os.environ.setdefault("SECRET_KEY", "bench")

    import credentials
    from app import create_app
    from app.extensions import db
    from app.services import transcripts
    from bench._seed import seed_graduate

    app = create_app()
    with app.app_context():
        db.create_all()
        credentials.KeyRing.generate_in_dir(os.environ["SIGNING_KEY_DIR"])
        admin, student = seed_graduate(db.session, RECORDS)
        transcripts.issue_transcript(db.session, admin, student.student_no)  # warm: fonts, keys
        zh = transcripts.pdf_translator()
        issue_ms, render_ms, serials = [], [], set()
        name = student.display_name
        for i in range(args.runs):
            # Something the transcript carries changes each time, or issuing again returns the
            # current one unchanged (as it should) and the bench would time that no-op.
            student.display_name = f"{name} {i}"
            db.session.flush()
            t = time.perf_counter()
            transcript = transcripts.issue_transcript(db.session, admin, student.student_no)
            issue_ms.append((time.perf_counter() - t) * 1000)
            serials.add(transcript.serial)
            snapshot = credentials.snapshot_from_bytes(transcript.snapshot.encode())
            ring = transcripts.keyring()
            t = time.perf_counter()
            credentials.render_pdf(snapshot, transcript.link, ring.active, zh=zh,
                                   certificate=transcripts.school_certificate())  # as issuing signs
            render_ms.append((time.perf_counter() - t) * 1000)
    assert len(serials) == args.runs, "every run must issue a new transcript"
    issue, render = statistics.median(issue_ms), statistics.median(render_ms)
    print(f"{'step':<28}{'median ms':>10}{'min ms':>10}")
    print(f"{'issue (service layer)':<28}{issue:>10.1f}{min(issue_ms):>10.1f}")
    print(f"{'render_pdf alone':<28}{render:>10.1f}{min(render_ms):>10.1f}")
    print(f"issue: {RECORDS} records median {issue:.1f} ms, render alone {render:.1f} ms, "
          f"ratio {issue / render:.2f}, overhead {issue - render:.1f} ms ({args.runs} runs)")


if __name__ == "__main__":
    main()
