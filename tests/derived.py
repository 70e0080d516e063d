"""Documents derived from real ones, where the corpus lacks what a test needs — said plainly here.

The corpus has no unit published in two years (上海市普陀区 units appear once each: 万里街道 2024, 区政府办
2025, 司法局 and 石泉路街道 2026) and no unit with both a 预算 and a 决算 of one year. So the tests make them
from the real 2024 部门预算 of 东莞市清溪镇政务服务中心 (``samples/seeds``), changing printed figures the way
a next year's document or the year's final accounts would:

- :func:`qingxi_next_year` — the "2025" 部门预算: every 2024 becomes 2025; 专用设备租赁费支出 grows from
  43.20 to 48.00 万元 (432,000 → 480,000 元 in its performance table; 表7's 租赁费 and every total above it
  follow), its repair-time target tightens from ≤24小时 to ≤12小时, and one project is printed under a
  slightly different name (政务服务中心（院内）停车场建设), as documents do from one year to the next;
- :func:`qingxi_final_accounts` — the 2024 部门决算 of the same unit: its cover and 表3 支出总体情况表 as a
  支出决算表, 综合业务管理 (2080104) spending 498.30 万元 of the 521.70 budgeted.
"""
from __future__ import annotations

from pathlib import Path

from conftest import SEEDS

QINGXI_2024 = SEEDS / "dongguan-qingxi-2024-department-budget.txt"

#: (printed in 2024, printed in the derived 2025 document); each replaces every occurrence
NEXT_YEAR = [
    ("2024", "2025"),
    ("432, 000. 00", "480, 000. 00"),  # 专用设备租赁费支出, 元 in its performance table
    ("43.20", "48.00"),  # the same in 万元: the 重点项目 list and 表7 [30214]租赁费
    ("302.90", "307.70"), ("521.70", "526.50"), ("910.45", "915.25"), ("948.42", "953.22"),
    ("992.85", "997.65"), ("58.04", "62.84"),  # every total the rental is part of
    ("≤24小时", "≤12小时"),  # 报障后维护人员到场时间
    ("政务服务中心院内停车场建设", "政务服务中心（院内）停车场建设"),
]

#: 表3 of the 2024 budget, as spent: 综合业务管理 498.30 of 521.70 万元 (and the totals above it)
FINAL_ACCOUNTS = [
    ("521.70", "498.30"), ("910.45", "887.05"), ("948.42", "925.02"), ("992.85", "969.45"),
]


def _replace(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def qingxi_next_year(folder: Path) -> Path:
    """The derived 2025 部门预算 of 东莞市清溪镇政务服务中心 (see the module's docstring)."""
    out = folder / "dongguan-qingxi-2025-department-budget-derived.txt"
    out.write_text(_replace(QINGXI_2024.read_text(encoding="utf-8"), NEXT_YEAR), encoding="utf-8")
    return out


def qingxi_final_accounts(folder: Path) -> Path:
    """The derived 2024 部门决算 of 东莞市清溪镇政务服务中心: its cover and 支出决算表 (see the docstring)."""
    lines = QINGXI_2024.read_text(encoding="utf-8").splitlines()
    start = lines.index("表 3")
    end = lines.index("表 4")
    cover = ["", "2024 年", "东莞市清溪镇政务服务中心部门决算", ""]
    table = _replace("\n".join(lines[start:end]), FINAL_ACCOUNTS).replace("支出总体情况表", "支出决算表")
    out = folder / "dongguan-qingxi-2024-final-accounts-derived.txt"
    out.write_text("\n".join(cover) + "\n" + table + "\n", encoding="utf-8")
    return out
