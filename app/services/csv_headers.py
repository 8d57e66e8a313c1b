"""The column headers and values a school's CSV files may carry — data, not interface text.

Schools export their rosters and sign-in sheets from Excel with Chinese or English headers
(学号, 姓名…, or student_no, name…), so these aliases are part of the file format and stay
as they are whatever language the site is read in. Add an alias here when a school's file
uses another name for a column.
"""

from __future__ import annotations

import json
from pathlib import Path

# The data itself lives in csv_headers.json next to this module.
_DATA = json.loads((Path(__file__).with_suffix(".json")).read_text(encoding="utf-8"))

# Header names schools use, in Chinese or English, mapped to our field names.
HEADERS: dict[str, str] = _DATA["headers"]
# A participant's role written in Chinese in the role column, mapped to ours.
ROLE_NAMES: dict[str, str] = _DATA["role_names"]
# A year of entry may carry a suffix (e.g. "2023" + suffix): it is dropped.
COHORT_SUFFIX: str = _DATA["cohort_suffix"]
# The sample roster the import page offers for download: the headers a school's file carries.
ROSTER_TEMPLATE: str = _DATA["roster_template"]
