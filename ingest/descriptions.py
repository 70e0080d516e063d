"""Narrative project descriptions → :class:`ProjectDescription`.

Two shapes: ``X项目经费情况说明`` followed by numbered parts (一、项目概述 … 六、年度预算安排 795万元 …
七、绩效目标), and ``项目名称：X`` under a 重点项目情况 heading followed by ``1、项目概况：…`` parts.
"""
from __future__ import annotations

import re

from .amounts import parse_money, unit_of_label
from .records import ProjectDescription, Span
from .sections import DESCRIPTION_TITLE, NARRATIVE_NAME
from .text import Line, key

_PART = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|\d+[、.．]|（[一二三四五六七八九十]+）)\s*([^：:]{2,12}?)\s*(?:[：:]\s*(.*))?$")
_FIELDS = [
    (re.compile(r"项目概述|项目概况|项目简介"), "summary"),
    (re.compile(r"立项依据|设立依据"), "basis"),
    (re.compile(r"实施主体|实施单位"), "implementing_unit"),
    (re.compile(r"实施周期"), "period"),
    (re.compile(r"年度预算(安排)?|预算安排|资金安排"), "amount"),
    (re.compile(r"绩效目标|预期(总体)?目标|总体目标"), "goal"),
    (re.compile(r"实施方案|实施计划"), "plan"),
]
_MONEY = re.compile(r"(\d[\d,，]*(?:\.\d+)?)\s*(万元|元|亿元)")


def read_description(lines: list[Line], start: int, end: int) -> ProjectDescription | None:
    first = lines[start].text
    m = DESCRIPTION_TITLE.match(key(first))
    if m:
        name = m.group(1) + ("项目" if not m.group(1).endswith("项目") else "")
    else:
        nm = NARRATIVE_NAME.match(first)
        if not nm:
            return None
        name = nm.group(1).strip()
    parts: dict[str, list[str]] = {}
    current: str | None = None
    last = start
    for i in range(start + 1, end):
        line = lines[i]
        if not line.filled:
            continue
        pm = _PART.match(line.text)
        if pm:
            field = next((f for pat, f in _FIELDS if pat.search(pm.group(1))), None)
            if field is None and (line.text.startswith(("（", "(")) or re.match(r"^[一二三四五六七八九十]+、", line.text)):
                break  # the next section of the document
            current = field
            if field and pm.group(2):
                parts.setdefault(field, []).append(pm.group(2).strip())
            last = i
            continue
        if current:
            parts.setdefault(current, []).append(line.text)
            last = i
    text = {k: "".join(v) if k not in ("basis",) else "\n".join(v) for k, v in parts.items()}
    d = ProjectDescription(name=name, span=Span(lines[start].no, lines[last].no))
    d.summary = text.get("summary")
    d.basis = text.get("basis")
    d.implementing_unit = text.get("implementing_unit")
    d.period = text.get("period")
    d.goal = text.get("goal")
    if "amount" in text:
        mm = _MONEY.search(text["amount"])
        if mm:
            d.amount = parse_money(mm.group(1), unit_of_label(mm.group(2)))
    if not (d.summary or d.goal or d.amount):
        return None
    return d
