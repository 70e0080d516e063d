"""Layout detection: where each kind of table starts and ends in a document.

Tables are recognised by their headings and field labels (项目名称, 部门名称 + 绩效指标,
单位：万元 under a 表 title, 项目 | 预算数 of the 重点项目 list), never by file. A table ends where
another starts, at a section heading, or at the end of the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .text import Line, key

PROJECT_TITLE = re.compile(r"(项目(支出)?绩效目标(申报)?表|财政项目支出绩效目标申报表)(\(\d{4}年度?\))?$")
DEPARTMENT_TITLE = re.compile(r"(部门|单位|部门\(单位\)|部门/单位)?整体(支出|预算)?(绩效)?目标(申报)?表")
SECTION_HEADING = re.compile(
    r"^(#{1,6}\s|第[一二三四五六七八九十]+部分|附件\s*\d|[一二三四五六七八九十]+、\S|（[一二三四五六七八九十]+）\S|\([一二三四五六七八九十]+\)\s*\S)"
)
MONEY_UNIT = re.compile(r"(?:^|[\s：:])(?:金额)?单位\s*[：:]\s*(万元|元)(?:\s|$)")
UNIT_FIELD = re.compile(r"^(部门|单位|部门\(单位\)|部门/单位)名称$")
DESCRIPTION_TITLE = re.compile(r"^(.{2,40}?)项目?经费情况说明$")
NARRATIVE_NAME = re.compile(r"^项目名称\s*[：:]\s*(\S.*)$")


@dataclass
class Block:
    """A run of lines holding one table or narrative: ``lines[start:end]``."""

    kind: str  # project | department | budget | keyprojects | description
    start: int
    end: int


def first_key(line: Line) -> str:
    filled = line.filled
    return key(filled[0][1]) if filled else ""


_TABLE_ROW_NUMBER = re.compile(r"\d{1,3}(,\d{3})+|\d\.\d{2}\b|\s\d+\s*$")


def is_heading(line: Line) -> bool:
    """A numbered section heading (一、… / （三）… / ## …), not a table row that starts like one."""
    return (not line.tabbed and bool(SECTION_HEADING.match(line.text))
            and not _TABLE_ROW_NUMBER.search(line.text))


# page furniture between table rows: "(2024 年度)", "第 3 页", "- 3 -", "单位：万元", "附件 2"
_FURNITURE = re.compile(r"^[(（]\d{4}年度?[)）]$|^第\d+页(共\d+页)?$|^-\d+-$|^(金额)?单位:(万元|元)$|^附件\d*$|^续表$")


def is_title(line: Line) -> bool:
    """A table title or page furniture, never a table cell."""
    t = key(line.text)
    return bool(t) and len(t) < 60 and bool(PROJECT_TITLE.search(t) or DEPARTMENT_TITLE.search(t) or _FURNITURE.match(t))


def cell_mode(lines: list[Line], start: int) -> bool:
    """One cell per line: the label stands alone on its line and its value on the next."""
    line = lines[start]
    return not line.tabbed and len(line.filled) == 1


def _project_start(lines: list[Line], i: int) -> bool:
    line = lines[i]
    if first_key(line) != "项目名称":
        return False
    if len(line.filled) >= 2:
        return True
    # cell mode: the name follows on the next non-empty line and a table follows (项目类型, 实施周期 …)
    window = " ".join(key(x.text) for x in lines[i + 1 : i + 40])
    return bool(re.search(r"主管部门|项目类型|实施周期|绩效指标|一级指标|预算金额|项目资金", window))


_UNIT_NAME = re.compile(r"(中心|局|委员会|委|办公室|人民政府|政府|办事处|街道|院|所|站|队|会|馆|厅|部|社|处|镇|乡)(（本级）|\(本级\))?$")


def _department_start(lines: list[Line], i: int) -> bool:
    if not UNIT_FIELD.match(first_key(lines[i])):
        return False
    # the value must be a unit's name (表五's 单位名称 | 总计 … heading is not a department table)
    value = lines[i].filled[1][1] if len(lines[i].filled) > 1 else (lines[i + 1].text if i + 1 < len(lines) else "")
    if not _UNIT_NAME.search(key(value)):
        return False
    window = [key(x.text) for x in lines[i + 1 : i + 80]]
    return any(("绩效指标" in w or "一级指标" in w or "年度重点工作任务" in w) for w in window)


def _keyprojects_start(lines: list[Line], i: int) -> bool:
    cells = [key(c) for _, c in lines[i].filled]
    if len(cells) < 2 or cells[0] not in ("项目", "项目名称"):
        return False
    return any(c.startswith("预算数") or c.startswith("预算金额") for c in cells[1:]) and any(
        "重点项目" in key(x.text) for x in lines[max(0, i - 8) : i]
    )


def _description_start(lines: list[Line], i: int) -> bool:
    line = lines[i]
    if line.tabbed or len(line.filled) != 1:
        return False
    k = key(line.text)
    if DESCRIPTION_TITLE.match(k):
        return True
    m = NARRATIVE_NAME.match(line.text.strip())
    return bool(m) and any("重点项目" in key(x.text) for x in lines[max(0, i - 6) : i])


def find_blocks(lines: list[Line]) -> list[Block]:
    """Every table / narrative block of the document, in order, with its extent."""
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if not line.filled:
            continue
        if _project_start(lines, i):
            starts.append((i, "project"))
        elif _department_start(lines, i):
            starts.append((i, "department"))
        elif _keyprojects_start(lines, i):
            starts.append((i, "keyprojects"))
        elif _description_start(lines, i):
            starts.append((i, "description"))
        elif MONEY_UNIT.search(line.raw) and not line.tabbed or (
            line.tabbed and len(line.filled) == 1 and MONEY_UNIT.search(" " + line.filled[0][1])
        ):
            starts.append((i, "budget"))
    blocks: list[Block] = []
    for n, (i, kind) in enumerate(starts):
        nxt = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        end = nxt
        for j in range(i + 1, nxt):
            if is_heading(lines[j]) and kind != "description":
                end = j
                break
        blocks.append(Block(kind, i, end))
    return blocks
