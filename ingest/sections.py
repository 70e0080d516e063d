"""Layout detection: where each kind of table starts and ends in a document.

Tables are recognised by their headings and field labels (项目名称, 部门名称 + 绩效指标,
单位：万元 under a 表 title, 项目 | 预算数 of the 重点项目 list), never by file. A table ends where
another starts, at a section heading, or at the end of the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .classify import (
    CODED,
    DEPARTMENT_TARGETS,
    KEY_PROJECTS,
    OTHER,
    PROJECT_LIST,
    PROJECT_TARGETS,
    SELF_EVALUATION,
    SUMMARY,
    Classification,
    classify,
    looks_like_title,
)
from .text import Line, key
from .vocab import PROJECT_FIELDS, match_field

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

    kind: str  # reader: project | department | budget | projectlist | selfeval | keyprojects | description | other
    start: int
    end: int
    title: str = ""  # as printed
    number: str | None = None  # the table's number as printed (5, 五, 05)
    classification: Classification | None = None
    money_unit: str | None = None  # from the table's 单位：万元 caption


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


def _project_start(lines: list[Line], i: int) -> bool:
    line = lines[i]
    first = line.filled[0][1].split() if line.filled else []
    # 项目名称 / 专项资金名称 …, also as the first word of a web copy's row (项目名称 物业管理)
    if not first or match_field(first[0], PROJECT_FIELDS) != "name":
        return False
    if len(line.filled) >= 2 or len(first) >= 2:
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


_TABLE_NUMBER = re.compile(r"(?:公开|附)?表\s*([一二三四五六七八九十]+|\d+(?:-\d+)?)|公开\s*(\d+)\s*表|^([一二三四五六七八九十]+)、")
_NUMBER_LINE = re.compile(r"^(?:附件\d*)?(?:公开|附)?表\s*[一二三四五六七八九十\d]+(?:-\d+)?$|^公开\s*\d+\s*表$|^公开表\s*\d+$")
#: how far above a table its title may be printed (number line, title, 单位 caption, a blank or two)
TITLE_LOOKBACK = 8
#: a table's head: its title, number and caption lines, and its first rows, read to classify it
HEAD_ROWS = 6
#: a run of this many table titles with no table rows between them is a table of contents
TOC_RUN = 3


def _is_data(line: Line) -> bool:
    """A row of a table body: a grid row, or a row of several cells one of which is an amount."""
    if line.grid is not None:
        return True
    return len(line.filled) >= 2 and any(AMOUNT_CELL.fullmatch(c.replace(",", "").replace(" ", "")) for _, c in line.filled)


AMOUNT_CELL = re.compile(r"-?\d+(\.\d+)?")


def title_of(line: Line) -> str | None:
    """The table title a line prints: a text line, or a grid row with one filled cell (Excel-made
    PDFs print the title as the first row of the grid)."""
    cells = [c for _, c in line.filled if not MONEY_UNIT.search(" " + c) and not _NUMBER_LINE.match(key(c))]
    if len(cells) != 1:
        return None
    text = cells[0]
    # a page heading may put the title and the caption on one line: 一般公共预算支出表  单位：万元
    text = MONEY_UNIT.split(text)[0].strip() if MONEY_UNIT.search(text) else text
    return text if looks_like_title(text) else None


def _triggers(lines: list[Line]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if not line.filled:
            continue
        if line.grid is not None and (i == 0 or lines[i - 1].grid != line.grid):
            out.append((i, "grid"))
        t = title_at(lines, i)
        if t is not None and "续" not in t[0]:  # 项目绩效目标表（续表）: the same table on a new page
            out.append((i, "title"))
        if _project_start(lines, i):
            out.append((i, "project"))
        elif _department_start(lines, i):
            out.append((i, "department"))
        elif _keyprojects_start(lines, i):
            out.append((i, "keyprojects"))
        elif _description_start(lines, i):
            out.append((i, "description"))
        elif line.grid is None and (MONEY_UNIT.search(line.raw) and not line.tabbed or (
            line.tabbed and len(line.filled) == 1 and MONEY_UNIT.search(" " + line.filled[0][1])
        )):
            out.append((i, "unit"))
    return _drop_contents(lines, out)


def _drop_contents(lines: list[Line], triggers: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Titles listed in a table of contents are not tables: a run of titles with no rows between."""
    titles = [i for i, t in triggers if t == "title"]
    toc: set[int] = set()
    run: list[int] = []
    for i in titles:
        if run and any(_is_data(lines[j]) or lines[j].grid is not None for j in range(run[-1] + 1, i)):
            run = []
        run.append(i)
        if len(run) >= TOC_RUN:
            toc.update(run)
    return [(i, t) for i, t in triggers if not (t == "title" and i in toc)]


# trigger → block family when the table's title and header do not decide
_TRIGGER_FAMILY = {"project": "project", "department": "department", "keyprojects": "keyprojects",
                   "description": "description", "unit": "budget", "grid": "budget", "title": "budget"}
_FAMILY_OF_KIND = {CODED: "budget", SUMMARY: "budget", PROJECT_LIST: "projectlist",
                   PROJECT_TARGETS: "project", DEPARTMENT_TARGETS: "department",
                   SELF_EVALUATION: "selfeval", KEY_PROJECTS: "keyprojects", OTHER: "other"}


def _in_head(lines: list[Line], start: int, i: int) -> bool:
    """Whether line ``i`` still belongs to the head of the block starting at ``start``: no body row
    (other than the lines that opened the block) lies between them."""
    if i - start > TITLE_LOOKBACK:
        return False
    return not any(_is_data(lines[j]) for j in range(start, i) if lines[j].grid is None)


def _find_title(lines: list[Line], start: int, floor: int, head_end: int) -> tuple[str, str | None, int | None]:
    """(title, table number, line index where the title starts): in the block's head, else just above it."""
    for j in range(start, head_end):
        found = title_at(lines, j, floor)
        if found:
            return found[0], _number_near(lines, found[1], floor, head_end), found[1]
    for j in range(start - 1, max(floor, start - TITLE_LOOKBACK) - 1, -1):
        if _is_data(lines[j]):
            break
        found = title_at(lines, j, floor)
        if found:
            return found[0], _number_near(lines, found[1], floor, head_end), found[1]
    return "", None, None


#: the last line of a title wrapped at the page width may hold only its end (标表, 表)
TAIL_MAX_CHARS = 4


def title_at(lines: list[Line], j: int, floor: int = 0) -> tuple[str, int] | None:
    """The title line ``j`` prints or ends, and the index of its first line: a title wrapped over two lines
    (``301007_…_机场公安综`` / ``合修缮改造项目绩效目标表``, or ``…项目经费项目绩效目`` / ``标表``) is joined."""
    line = lines[j]
    t = title_of(line)
    above = lines[j - 1] if j - 1 >= floor else None
    if above is not None and above.page != line.page:
        above = None  # a cover page's last line is not the start of the next page's title
    if t:
        if above is not None and title_fragment(above, t):
            return above.text.strip() + t, j - 1
        return t, j
    k = key(line.text)
    if (above is not None and line.grid is None and len(line.filled) == 1 and k.endswith("表")
            and len(k) <= TAIL_MAX_CHARS and title_fragment(above, k)):
        joined = above.text.strip() + line.text.strip()
        if looks_like_title(joined):
            return joined, j - 1
    return None


_SENTENCE = re.compile(r"[，。；：:！？]|^[（(]?[一二三四五六七八九十\d]{1,3}[)）、.．]|^第[一二三四五六七八九十]+部分")
#: the first line of a wrapped title is at least this long (the last one carries …表)
FRAGMENT_MIN_CHARS = 6


def title_fragment(line: Line, title: str) -> bool:
    """Whether ``line`` is the first part of ``title`` wrapped over two lines: one cell of text that is no
    sentence, heading, caption, number line or title of its own, directly above a title that does not
    start with its own numbering."""
    if line.grid is not None or len(line.filled) != 1 or _SENTENCE.search(title[:3]):
        return False
    text = line.text.strip()
    k = key(text)
    return (len(k) >= FRAGMENT_MIN_CHARS and not _SENTENCE.search(text) and not MONEY_UNIT.search(" " + text)
            and not _NUMBER_LINE.match(k) and title_of(line) is None and not _is_data(line)
            and not re.search(r"\d{4}\s*年", text) and not k.endswith(("预算", "决算", "公开")))


def _number_near(lines: list[Line], j: int, floor: int, head_end: int) -> str | None:
    m = _TABLE_NUMBER.search(key(lines[j].text))
    if m:
        return next(g for g in m.groups() if g)
    for k in list(range(j - 1, max(floor, j - 3) - 1, -1)) + list(range(j + 1, min(head_end, j + 3))):
        text = key(lines[k].text)
        if _NUMBER_LINE.match(text):
            m = _TABLE_NUMBER.search(text)
            if m:
                return next(g for g in m.groups() if g)
    return None


def _money_unit(lines: list[Line], lo: int, hi: int) -> str | None:
    for j in range(lo, hi):
        m = MONEY_UNIT.search(lines[j].raw) or MONEY_UNIT.search(" " + lines[j].text)
        if m:
            return m.group(1)
    return None


def find_blocks(lines: list[Line], context: str = "") -> list[Block]:
    """Every table / narrative block of the document, in order, with its extent and kind.

    ``context`` is the document's opening text (its title says 决算 or 预算).
    """
    triggers = _triggers(lines)
    groups: list[tuple[int, list[str]]] = []  # (start, triggers of the block's head)
    for i, trig in triggers:
        # a second title before any row: the first was a section heading (第二部分 … 部门预算表)
        second_title = trig == "title" and bool(groups) and "title" in groups[-1][1]
        if groups and not second_title and (_in_head(lines, groups[-1][0], i) or (
            trig == "grid" and _continues_grid(lines, groups[-1][0], i))):
            if trig == "project" and "project" in groups[-1][1] or trig == "department" and "department" in groups[-1][1]:
                groups.append((i, [trig]))  # the next project of a table that prints several
            else:
                groups[-1][1].append(trig)
            continue
        groups.append((i, [trig]))
    # a table's number printed on its own line above its title (公开03表) belongs to that table
    for n, (i, trigs) in enumerate(groups):
        j = i
        while j - 1 >= (groups[n - 1][0] + 1 if n else 0) and i - j < 3 and (
                not lines[j - 1].filled or _NUMBER_LINE.match(key(lines[j - 1].text))
                or ("title" in trigs and (title_at(lines, i, j - 1) or ("", i))[1] == j - 1)):
            j -= 1
        while j < i and not lines[j].filled:
            j += 1
        groups[n] = (j, trigs)
    blocks: list[Block] = []
    prev_end = 0
    for n, (i, trigs) in enumerate(groups):
        nxt = groups[n + 1][0] if n + 1 < len(groups) else len(lines)
        head_end = min(nxt, i + HEAD_ROWS + 2)
        title, number, title_line = _find_title(lines, i, prev_end, head_end)
        if title_line is not None and title_line < i and any(b.start == title_line for b in blocks):
            title_line = None
        start = min(i, title_line) if title_line is not None and title_line >= prev_end else i
        family = _TRIGGER_FAMILY[trigs[0]] if trigs[0] != "title" or len(trigs) == 1 else _TRIGGER_FAMILY[trigs[1]]
        # field labels say more than a ruled grid does (项目 | 预算数（单位：万元） | 绩效目标 under 重点项目…)
        family = next((_TRIGGER_FAMILY[t] for t in trigs if t in ("project", "department", "keyprojects")), family)
        kind = None
        if family != "description":
            header = " ".join(ln.text for ln in lines[i:head_end] if ln.filled and title_of(ln) is None)
            if "project" in trigs or "department" in trigs:
                # a target table's indicator heading may come well after its key/value rows
                header += " " + " ".join(ln.text for ln in lines[i:min(nxt, i + 60)] if "指标" in ln.text)
            kind = classify(title, header, context)
            if kind.kind.id == "UnknownTable" and family in ("project", "department", "keyprojects"):
                kind = None  # the trigger's field labels said what it is; no title or header contradicts
            elif (kind.kind.id == "UnknownTable" or trigs == ["title"]) and not _has_body(lines, i, nxt):
                continue  # a stray title or caption without rows (a section heading naming the table below)
            if kind is not None:
                family = _FAMILY_OF_KIND[kind.family]
    
        end = nxt
        for j in range(i + 1, nxt):
            if family != "description" and _ends_table(lines, j, nxt):
                end = j
                break
        blocks.append(Block(family, start, end, title=title, number=number, classification=kind,
                            money_unit=_money_unit(lines, start, head_end)))
        prev_end = end
    return blocks


#: a numbered line is a section heading that ends the table when prose, not a table row, follows it
#: within this many lines (a 收支总表 printed as text lists ~30 numbered 类 names, some without amounts)
HEADING_LOOKAHEAD = 40
PROSE_CHARS = 20
_PROSE = re.compile(r"[，。；：:]")


def _ends_table(lines: list[Line], j: int, end: int) -> bool:
    """A section heading (三、… / （二）…) ends the table above it; a numbered row label of the table
    itself (二、政府性基金预算财政拨款 in a 收支总表 printed as text) is followed by more rows."""
    if lines[j].grid is not None or not is_heading(lines[j]) or len(lines[j].filled) >= 2:
        return False  # a heading is one cell; 二、政府性基金…收入   二、外交支出 is two columns of a table
    for k in range(j + 1, min(end, j + 1 + HEADING_LOOKAHEAD)):
        line = lines[k]
        if _is_data(line):
            return False  # more rows of the table
        if len(key(line.text)) >= PROSE_CHARS and _PROSE.search(line.text):
            return True  # a section's text
    return True


def _has_body(lines: list[Line], start: int, end: int) -> bool:
    return any(_is_data(lines[j]) for j in range(start, end))


def _continues_grid(lines: list[Line], block_start: int, i: int) -> bool:
    """A grid right after the previous block's grid with no title or caption between them: the
    same table continued (on the next page, or as the next part of a target table)."""
    j = i - 1
    while j > block_start and not lines[j].filled:
        j -= 1
    if lines[j].grid is None:
        return False
    # Excel-made PDFs print a table's number, title and caption as its grid's first rows
    head = [ln for ln in lines[i:i + 3] if ln.grid == lines[i].grid]
    return not any(title_of(ln) or _NUMBER_LINE.match(key(ln.text)) or MONEY_UNIT.search(" " + ln.text) for ln in head)
