"""Write docs/api.md, the API reference, from the app's own OpenAPI document.

    .venv/bin/python scripts/api_reference.py          # rewrite docs/api.md
    .venv/bin/python scripts/api_reference.py --check  # exit 1 when docs/api.md is stale

tests/test_api_reference.py runs the check, so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "api.md"
METHODS = ("get", "post", "put", "patch", "delete")


def _spec() -> dict:
    sys.path.insert(0, str(ROOT))
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "reference", "TESTING": True})
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _schema(spec: dict, ref_or_schema: dict) -> dict:
    while "$ref" in ref_or_schema:
        ref_or_schema = spec["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]
    return ref_or_schema


def _fields(spec: dict, op: dict) -> str:
    content = (op.get("requestBody") or {}).get("content") or {}
    for kind in ("application/json", "multipart/form-data"):
        if kind in content:
            schema = _schema(spec, content[kind]["schema"])
            required = set(schema.get("required", []))
            names = [f"`{n}`" if n in required else f"`{n}`?" for n in schema.get("properties", {})]
            return ", ".join(names) or "—"
    params = [p for p in op.get("parameters", []) if p.get("in") == "query"]
    return ", ".join(f"`?{p['name']}`" for p in params) or "—"


def render(spec: dict) -> str:
    lines = [
        "# API reference",
        "",
        "Generated from `/api/v1/openapi.json` by `scripts/api_reference.py` — do not edit by hand.",
        "The contract integrations rely on is the steering repo's `API.md`; the conventions: JSON",
        "in and out, `Authorization: Bearer <token>` (from `POST /api/v1/auth/token`), errors",
        '`{"error": {"code", "message", "fields"}}`, lists `{"items": [...], "total": N}` with',
        "`?page=&per_page=` (≤ 200). `field?` is optional; 🔒 needs a token.",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict]]] = {}
    for path, ops in spec["paths"].items():
        for method in METHODS:
            if method in ops:
                tag = (ops[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((method, path, ops[method]))
    for tag in [t["name"] for t in spec.get("tags", [])] + sorted(set(by_tag) - {t["name"] for t in spec["tags"]}):
        if tag not in by_tag:
            continue
        lines += [f"## {tag}", "", "| | method, path | body or query | answers | what |",
                  "| --- | --- | --- | --- | --- |"]
        for method, path, op in by_tag[tag]:
            statuses = ", ".join(sorted(s for s in op.get("responses", {}) if s != "default"))
            lock = "🔒" if op.get("security") else ""
            what = (op.get("summary") or op.get("description") or "").replace("|", "\\|").strip()
            lines.append(f"| {lock} | `{method.upper()} {path}` | {_fields(spec, op)} | {statuses} | {what} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    text = render(_spec())
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/api.md is stale: run .venv/bin/python scripts/api_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
