"""docs/api.md, the API reference the README links, is generated from the OpenAPI document."""

from __future__ import annotations

import subprocess
import sys

from app import ROOT


def test_the_api_reference_lists_every_operation_and_is_up_to_date():
    check = subprocess.run([sys.executable, "scripts/api_reference.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for line in ("`POST /api/v1/auth/token`", "`PATCH /api/v1/users/{user_id}`",
                 "`PUT /api/v1/clubs/{club_id}/leaders`", "`GET /api/v1/verify/{serial}`"):
        assert line in text
    assert " |  |\n" not in text  # every operation says what it does
