"""Deterministic sample snapshots (demo data, tests and the benchmark).

``modules`` gives a module list of the office's own (records are spread over it); without
it the samples are the seven national modules, exactly as they always were.
"""

from __future__ import annotations

import datetime as _dt
import random
from decimal import Decimal

from .snapshot import MODULES, Record, Snapshot

SAMPLE_BASE_URL = "https://dekt.example-university.edu.cn"
SAMPLE_SERIAL = "K7QM-4XJ9-PW2D-HT8R-N3"
SAMPLE_INSTITUTION = "示例大学 Example University"

_ACTIVITIES = {
    "ideology": ["“青春心向党”主题团日活动", "学习二十大精神专题报告会",
                 "红色寻访：井冈山革命传统教育", "青年马克思主义者培养工程",
                 "Model UN 模拟联合国大会"],
    "practice": ["暑期“三下乡”社会实践——乡村振兴调研", "企业参访与职业体验", "县域经济发展专项调研",
                 "Summer internship at a local hospital", "社区治理调查实践"],
    "volunteering": ["社区义务支教", "城市马拉松赛会志愿服务", "无偿献血宣传活动", "图书馆志愿者",
                     "敬老院关爱老人志愿服务"],
    "innovation": ["全国大学生数学建模竞赛", "“挑战杯”课外学术科技作品竞赛",
                   "中国国际大学生创新大赛", "ACM-ICPC 程序设计竞赛校内选拔赛",
                   "大学生创新创业训练计划项目"],
    "culture_sports": ["校园十佳歌手大赛", "新生杯篮球赛", "书法与篆刻作品展", "迎新晚会",
                       "校运动会 4×100 米接力"],
    "leadership": ["学生会宣传部部长", "班级团支部书记", "青年志愿者协会会长", "社团联合会秘书长",
                   "学院新闻中心编辑"],
    "skills": ["全国大学英语六级考试（CET-6）", "计算机等级考试二级", "普通话水平测试一级乙等",
               "机动车驾驶证", "初级会计专业技术资格"],
}
#: Titles for a module the office added (no titles of its own above).
_OTHER_ACTIVITIES = ["校园劳动周：公共区域清洁", "农场劳动实践", "宿舍文明建设月", "心理健康工作坊",
                     "Campus garden workday 校园菜园劳动日"]
_CLUBS = ["青年志愿者协会", "数学建模协会", "摄影协会", "红十字会", "学生会", "创新创业协会",
          "书法协会", "Robotics Club 机器人社", "校团委", "计算机学院团委"]
_CERTIFIERS = ["王海燕老师", "李建国", "校团委 张敏", "陈老师", "Dr. Emily Zhao 赵老师"]
_AWARDS = ["一等奖", "二等奖", "三等奖", "优秀志愿者", "金奖", "最佳组织奖", "优秀个人"]
_LEVELS = ["national", "provincial", "school", "school", "college", "college", "club"]
_ROLES = ["participant", "participant", "participant", "organizer", "volunteer", "leader",
          "awardee"]


def sample_records(n: int, seed: int = 7,
                   modules: tuple[tuple[str, str, str], ...] = MODULES) -> tuple[Record, ...]:
    rng = random.Random(seed)
    keys = [m[0] for m in modules]
    start = _dt.date(2022, 9, 1)
    out = []
    for i in range(n):
        module = keys[i % len(keys)] if i < len(keys) else rng.choice(keys)
        title = rng.choice(_ACTIVITIES.get(module, _OTHER_ACTIVITIES))
        role = rng.choice(_ROLES)
        award = rng.choice(_AWARDS) if role == "awardee" or rng.random() < 0.08 else None
        out.append(
            Record(
                date=start + _dt.timedelta(days=rng.randrange(0, 1000)),
                activity=f"{title}（第{i + 1}期）",
                club=rng.choice(_CLUBS),
                module=module,
                level=rng.choice(_LEVELS),
                role=role,
                hours=Decimal(rng.randrange(5, 80)) / 10,
                award=award,
                certified_by=rng.choice(_CERTIFIERS),
                certified_at=None,
            )
        )
    return tuple(out)


def sample_snapshot(n: int = 60, *, seed: int = 7, serial: str = SAMPLE_SERIAL,
                    student_name: str = "李明轩", records: tuple[Record, ...] | None = None,
                    modules: tuple[tuple[str, str, str], ...] = MODULES,
                    **overrides) -> Snapshot:
    fields = dict(
        institution=SAMPLE_INSTITUTION,
        serial=serial,
        issued_at=_dt.datetime(2025, 6, 30, 10, 15, 0,
                               tzinfo=_dt.timezone(_dt.timedelta(hours=8))),
        student_name=student_name,
        student_no="2021110423",
        unit="计算机科学与技术学院",
        records=sample_records(n, seed, modules) if records is None else records,
        modules=modules,
    )
    fields.update(overrides)
    return Snapshot(**fields)
