"""Offline verifier and small tools.

    python -m credentials verify FILE.pdf --jwks jwks.json --roots school-root.pem [--catalog app/translations]
    python -m credentials verify-link URL --jwks jwks.json
    python -m credentials verify-credential FILE.json --jwks jwks.json|did.json [--status LIST.json]
    python -m credentials jwks --keys-dir instance/keys
    python -m credentials sample OUT.pdf --catalog app/translations [--records 60] [--keys-dir DIR]

``--roots`` is the school's root certificate(s), PEM: a PAdES-signed file is checked
against it (with ``--keys-dir`` the directory's own ``certificate/school-root.pem`` is
used when there is one).  ``--catalog`` is a directory of compiled catalogs (``zh_Hans_CN/LC_MESSAGES/messages.mo``)
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
    if not as_json and v.steps:
        print("steps:")
        for step in v.steps:
            mark = {True: "passed", False: "FAILED", None: "not checked"}[step.ok]
            print(f"  {step.name}: {mark}" + (f" — {step.detail}" if step.detail else ""))
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
    sp.add_argument("--roots", help="the school's root certificate(s), PEM (for PAdES-signed files)")
    sp = sub.add_parser("verify-link", help="verify the link from a transcript's QR code")
    sp.add_argument("url")
    keys_args(sp)
    sp = sub.add_parser("verify-credential", help="verify a transcript's verifiable credential (JSON)")
    sp.add_argument("file")
    keys_args(sp)
    sp.add_argument("--status", help="a saved status list credential (GET /status/N); else status is not checked")
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
        if args.cmd == "verify-credential":
            return _verify_credential(args)
        keys = _keys(args)
        zh = catalog_translator(args.catalog) if getattr(args, "catalog", None) else None
        roots = _roots(args) if args.cmd == "verify" else ()
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
    return _report(verify_pdf(data, keys, zh=zh, trust_roots=roots), args.json)


def _roots(args) -> tuple:
    from .certificate import CERT_SUBDIR, ROOT_FILE, load_roots

    if args.roots:
        return load_roots(args.roots)
    if args.keys_dir and (Path(args.keys_dir) / CERT_SUBDIR / ROOT_FILE).exists():
        return load_roots(Path(args.keys_dir) / CERT_SUBDIR / ROOT_FILE)
    return ()


def _read_json(path: str) -> object:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path}: not a JSON file") from None


def _verify_credential(args) -> int:
    """Exit 0 verified (status checked or not: the output says which), 1 not verified."""
    from .vc import verify_credential

    try:
        # --jwks also takes a saved did.json: its Multikeys are the same keys.
        keys = _read_json(args.jwks) if args.jwks else KeyRing.load_dir(args.keys_dir)
        document = _read_json(args.file)
        status = _read_json(args.status) if args.status else None
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    v = verify_credential(document, keys, status)
    if args.json:
        print(json.dumps(v.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"{'VERIFIED 验证通过' if v.verified else 'NOT VERIFIED 未通过验证'}: {v.reason}")
        for step in v.steps:
            mark = {True: "passed", False: "FAILED", None: "not checked"}[step.ok]
            print(f"  {step.name}: {mark}" + (f" — {step.detail}" if step.detail else ""))
    return 0 if v.verified else 1


def _sample(args) -> int:
    from .certificate import generate_school_certificate, make_school_certificate
    from .keys import generate_key
    from .links import make_link
    from .pdf import render_pdf
    from .sample import SAMPLE_BASE_URL, sample_snapshot
    from .snapshot import snapshot_digest

    key = KeyRing.generate_in_dir(args.keys_dir).active if args.keys_dir else generate_key()
    s = sample_snapshot(args.records)
    cert = (generate_school_certificate(args.keys_dir, s.institution) if args.keys_dir
            else make_school_certificate(s.institution))
    link = make_link(args.base_url or SAMPLE_BASE_URL, s.serial, snapshot_digest(s),
                     s.issued_at, key)
    Path(args.out).write_bytes(render_pdf(s, link, key, zh=catalog_translator(args.catalog),
                                          certificate=cert))
    print(f"{args.out}: {s.activity_count} records, key {key.kid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
