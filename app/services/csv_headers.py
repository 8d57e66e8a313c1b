"""The column headers and values a school's CSV files may carry — data, not interface text.

Schools export their rosters and sign-in sheets from Excel with Chinese or English headers
(学号, 姓名…, or student_no, name…), so these aliases are part of the file format and stay
as they are whatever language the site is read in. Add an alias here when a school's file
uses another name for a column.
"""

from __future__ import annotations

# Header names schools use, in Chinese or English, mapped to our field names.
HEADERS = {
    "学号": "student_no", "student_no": "student_no", "student number": "student_no",
    "姓名": "name", "name": "name", "display_name": "name",
    "角色": "role", "role": "role",
    "学时": "hours", "时长": "hours", "hours": "hours",
    "奖项": "award", "获奖": "award", "award": "award",
    "用户名": "username", "username": "username",
    "密码": "password", "password": "password",
    "院系代码": "unit", "院系": "unit", "unit": "unit", "unit_code": "unit",
    "邮箱": "email", "email": "email",
    "班级": "class", "团支部": "class", "class": "class", "class_name": "class",
    "入学年级": "cohort", "年级": "cohort", "cohort": "cohort",
}

# A participant's role written in Chinese in the 角色 column, mapped to ours.
ROLE_NAMES = {
    "参与者": "participant", "组织者": "organizer", "志愿者": "volunteer",
    "负责人": "leader", "获奖者": "awardee",
}

# A year of entry may be written "2023级": the suffix is dropped.
COHORT_SUFFIX = "级"

# The sample roster the import page offers for download: the headers a school's file carries.
ROSTER_TEMPLATE = ("\ufeff学号,姓名,院系代码,班级,入学年级,用户名,邮箱\r\n"
                   "2025000001,欧阳娜娜,CS,计算机2501,2025,,\r\n"
                   "2025000002,王小明,CS,计算机2501,2025,wangxm,wangxm@example.edu.cn\r\n")
