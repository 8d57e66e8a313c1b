"""Offline verifier and small tools.

    python -m credentials verify FILE.pdf --jwks jwks.json [--catalog app/translations]
    python -m credentials verify-link URL --jwks jwks.json
    python -m credentials jwks --keys-dir instance/keys
    python -m credentials sample OUT.pdf --catalog app/translations [--records 60] [--keys-dir DIR]

``--catalog`` is a directory of compiled catalogs (``zh_Hans_CN/LC_MESSAGES/messages.mo``)
with the Chinese of the printed labels: needed to render, and to verify a file issued
without a whole-file signature (it is checked by rendering it again).

Exit status: 0 genuine, 1 not genuine, 2 usage error (bad arguments, unreadable key set).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .keys import KeyRing, load_jwks_file
from .labels import catalog_translator
from .links import Verdict, verify_link


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, quieter
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _keys(args) -> dict:
    if args.jwks:
        return load_jwks_file(args.jwks)
    return KeyRing.load_dir(args.keys_dir).public_keys()


def _report(v: Verdict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(v.to_dict(), ensure_ascii=False, indent=2, default=str))
    elif v.genuine:
        print(f"GENUINE 真实有效: {v.reason}")
        s = v.snapshot
        if s is not None:
            print(f"  {s.institution} · {s.student_name} ({s.student_no}) · {s.unit}")
            print(f"  {s.activity_count} records, {s.total_hours} hours, {s.award_count} awards")
            q = s.requirement
            if q is not None:
                verdict = "met" if q.met else f"not met ({q.counted} of {q.required} hours)"
                print(f"  requirement under rule set {q.rules}: {verdict}")
                for year, hours, grade in q.years:
                    print(f"    {year}: {hours} hours, {grade}")
    else:
        print(f"NOT GENUINE 未通过验证: {v.reason}")
        if v.reason_zh:
            print(f"  {v.reason_zh}")
    return 0 if v.genuine else 1


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="python -m credentials", description="Verify second transcripts offline.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    def keys_args(sp):
        g = sp.add_mutually_exclusive_group(required=True)
        g.add_argument("--jwks", help="the issuer's JWKS file (/.well-known/jwks.json)")
        g.add_argument("--keys-dir", help="a key directory (uses its public parts)")
        sp.add_argument("--json", action="store_true", help="print the verdict as JSON")

    sp = sub.add_parser("verify", help="verify a transcript PDF")
    sp.add_argument("file")
    keys_args(sp)
    sp.add_argument("--catalog", help="the issuer's catalog directory (for unsigned files)")
    sp = sub.add_parser("verify-link", help="verify the link from a transcript's QR code")
    sp.add_argument("url")
    keys_args(sp)
    sp = sub.add_parser("jwks", help="print the public JWKS of a key directory")
    sp.add_argument("--keys-dir", required=True)
    sp = sub.add_parser("sample", help="render a sample transcript (demo, visual checks)")
    sp.add_argument("out")
    sp.add_argument("--catalog", required=True, help="catalog directory with the labels' Chinese")
    sp.add_argument("--records", type=int, default=60)
    sp.add_argument("--keys-dir", help="sign with this key directory (created if missing)")
    sp.add_argument("--base-url", default=None)
    args = p.parse_args(argv)

    try:
        if args.cmd == "jwks":
            print(json.dumps(KeyRing.load_dir(args.keys_dir).jwks(), indent=2))
            return 0
        if args.cmd == "sample":
            return _sample(args)
        keys = _keys(args)
        zh = catalog_translator(args.catalog) if getattr(args, "catalog", None) else None
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.cmd == "verify-link":
        return _report(verify_link(args.url, keys), args.json)
    from .verify import verify_pdf

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    return _report(verify_pdf(data, keys, zh=zh), args.json)


def _sample(args) -> int:
    from .keys import generate_key
    from .links import make_link
    from .pdf import render_pdf
    from .sample import SAMPLE_BASE_URL, sample_snapshot
    from .snapshot import snapshot_digest

    key = KeyRing.generate_in_dir(args.keys_dir).active if args.keys_dir else generate_key()
    s = sample_snapshot(args.records)
    link = make_link(args.base_url or SAMPLE_BASE_URL, s.serial, snapshot_digest(s),
                     s.issued_at, key)
    Path(args.out).write_bytes(render_pdf(s, link, key, zh=catalog_translator(args.catalog)))
    print(f"{args.out}: {s.activity_count} records, key {key.kid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
