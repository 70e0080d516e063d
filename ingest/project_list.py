"""Project lists (项目支出表 / 项目支出预算情况表 / 财政拨款项目支出预算表) → :class:`ProjectBudgetEntry`.

A list of the unit's projects with their amounts, and what the template prints beside each: its
category (项目类别: 特定目标类, 其他运转类 …), the implementing unit (单位名称) and, in some templates,
the 功能分类 code the project is budgeted under (the project rows printed under their 类/款/项 rows).
Columns are found by their headings; the amount is the row's first amount column (合计 / 总计 /
预算数), in the unit of the table's caption or headings — never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .amounts import caption_unit, parse_money
from .budget_tables import (
    Cell,
    Layout,
    TOTAL_LABEL,
    _assign,
    _code_start,
    _is_data_row,
    header_of,
    _unit_word,
    cells_of,
    is_amount_cell,
    is_name,
    read_header,
)
from .codes import Hierarchy
from .errors import ParseError
from .records import ProjectBudgetEntry, Span
from .sections import Block
from .text import Line, key

# the text columns of a project list, by heading
_NAME = re.compile(r"^(项目名称|二级项目名称|项目|支出项目类别\(资金使用单位\)|项目名称\(资金使用单位\))$")
_CATEGORY = re.compile(r"^(项目类别|项目类型|项目分类|项目属性|类别|项目级次)$")
_UNIT = re.compile(r"^(单位名称|单位|预算单位|实施单位|资金使用单位|部门名称|单位\(部门\)名称)$")
_CODE_NAME = re.compile(r"^(功能分类科目名称|功能科目名称|科目名称)$")
_SERIAL = re.compile(r"^(序号|编号)$")
_ROLES = (("name", _NAME), ("category", _CATEGORY), ("unit", _UNIT), ("codename", _CODE_NAME), ("serial", _SERIAL))


@dataclass
class _TextColumn:
    role: str
    start: float
    end: float
    heading: str = ""

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def _text_columns(header_rows: list[tuple[Line, list[Cell]]], grid: bool) -> list[_TextColumn]:
    out: list[_TextColumn] = []
    for _, cells in header_rows:
        for c in cells:
            k = key(c.text).replace("（", "(").replace("）", ")")
            for role, pattern in _ROLES:
                if pattern.match(k) and not any(t.role == role for t in out):
                    out.append(_TextColumn(role, c.start, c.end, c.text))
    return sorted(out, key=lambda t: t.start)


def _role_of(cell: Cell, cols: list[_TextColumn], grid: bool, order: int, texts: int) -> str | None:
    if not cols:
        return "name" if order == 0 else None
    if grid:
        hit = [t for t in cols if t.start <= cell.start < max(t.end, t.start + 1)]
        return hit[0].role if hit else None
    if texts == len(cols):
        return cols[order].role  # as many text cells as text columns: in order
    return min(cols, key=lambda t: abs(t.center - cell.center)).role


def read_project_list(path: str, lines: list[Line], block: Block, document_unit: str | None = None) -> list[ProjectBudgetEntry]:
    """The projects a project list prints, each with its amount and what is printed beside it."""
    rows = [(ln, cells_of(ln)) for ln in lines[block.start:block.end] if ln.filled]
    rows = [(ln, cs) for ln, cs in rows if cs]
    first = next((k for k, (_, cs) in enumerate(rows) if _is_data_row(cs)), len(rows))
    if first == len(rows):
        return []
    head = rows[:first]
    grid = rows[first][0].tabbed
    header_rows = header_of(head, block.title)
    stage = block.classification.stage if block.classification else "预算"
    layout: Layout = read_header(header_rows, grid, stage)
    text_cols = _text_columns(header_rows, grid)
    if not any(t.role == "name" for t in text_cols):
        return []  # no 项目名称 column: a table of codes or categories, not a list of projects
    unit = block.money_unit or caption_unit("\n".join(ln.text for ln, _ in head)) or layout.unit or document_unit
    if unit is None:
        raise ParseError(path, f"project list {block.title!r} prints no money unit (单位：万元/元) and the document's "
                               "other tables do not agree on one", rows[0][0].no)
    unit = _unit_word(unit)
    # the amount columns: every heading that is not one of the text columns (项目类别 …)
    amount_cols = [c for c in layout.columns
                   if not any(p.match(key(part).replace("（", "(").replace("）", ")")) for part in c.path for _, p in _ROLES)]
    hierarchy = Hierarchy()
    code: str | None = None
    out: list[ProjectBudgetEntry] = []
    for ln, cells in rows[first:]:
        if not _is_data_row(cells):
            continue
        texts = [c for c in cells if is_name(c.text)]
        amounts = [c for c in cells if is_amount_cell(c.text)]
        if texts and TOTAL_LABEL.match(key(texts[0].text)) or texts and key(texts[0].text).startswith(("合计", "总计", "小计")):
            continue
        got = _code_start(cells, 0, True)
        if got is not None and len(got[0]) == 1 and len(got[0][0].text) <= 2 and layout.level_of(got[0][0]) is None:
            got = None  # a serial number (序号) before the name, not a 款/项 segment
        if got is not None:
            # a 类/款/项 row: the projects below it are budgeted under it
            segs, _, _ = got
            c = hierarchy.compose([(s.text, layout.level_of(s)) for s in segs])
            if c is not None:
                hierarchy.see(c)
                code = c
            continue
        fields: dict[str, str] = {}
        name_cells: list[Cell] = []
        for n, cell in enumerate(texts):
            role = _role_of(cell, text_cols, grid, n, len(texts))
            if role == "name":
                name_cells.append(cell)
            elif role and role not in fields:
                fields[role] = cell.text
        if not name_cells or not amounts:
            continue
        name = "".join(c.text for c in name_cells).strip()
        placed = _assign(amounts, amount_cols, grid, True) if amount_cols else [None] * len(amounts)
        first_amount = next((a for a, col in zip(amounts, placed) if amount_cols and col is amount_cols[0]), None)
        if first_amount is None and (not amount_cols or all(p is None for p in placed)):
            first_amount = amounts[0]
        money = parse_money(first_amount.text, unit) if first_amount is not None else None
        out.append(ProjectBudgetEntry(name=re.sub(r"\s+", "", name) if not re.search(r"[A-Za-z]\s+[A-Za-z]", name) else name,
                                      amount=money, span=Span(ln.no, ln.no), category=fields.get("category"),
                                      code=code if code and len(code) == 7 else None,
                                      implementing_unit=fields.get("unit"), table=block.title))
    name_heading = next((t.heading for t in text_cols if t.role == "name"), "")
    # a name column headed 支出项目类别（资金使用单位） lists groups (units, categories) above their projects
    grouped = "单位" in key(name_heading) or "类别" in key(name_heading)
    for e in out:
        e.groups = (grouped, "单位" in key(name_heading))
    return out


def drop_subtotals(entries: list[ProjectBudgetEntry]) -> list[ProjectBudgetEntry]:
    """The entries of a document's project lists without their group rows (see _without_subtotals),
    each list taken whole (a list runs over several pages)."""
    out: list[ProjectBudgetEntry] = []
    k = 0
    while k < len(entries):
        j = k
        while j < len(entries) and entries[j].table == entries[k].table:
            j += 1
        grouped, by_unit = entries[k].groups
        out.extend(_without_subtotals(entries[k:j], by_unit) if grouped else entries[k:j])
        k = j
    return out


def _quantum(m) -> Decimal:
    """The rounding step of a printed amount, in 元 (``7,552.92`` 万元 → 100 元)."""
    printed = m.printed.replace(",", "").replace("，", "")
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return (m.yuan / Decimal(printed.replace(" ", "")) if Decimal(printed.replace(" ", "")) else Decimal(1)) * Decimal(10) ** -decimals


_ORGANISATION = re.compile(r"(局|委员会|中心|办公室|院|所|站|队|馆|处|会|厅|部|校|园)$")


def _without_subtotals(entries: list[ProjectBudgetEntry], groups_are_units: bool) -> list[ProjectBudgetEntry]:
    """Rows that are the sum of the rows below them (a 资金使用单位 or a category heading its
    projects) are not projects: they name the group of the rows they add up."""
    out: list[ProjectBudgetEntry] = []
    group: str | None = None
    i, n = 0, len(entries)
    while i < n:
        e = entries[i]
        total, j = Decimal(0), i + 1
        end = None
        # amounts are rounded as printed (0.01 万元): a sum may be off by a rounding step per two rows
        step = _quantum(e.amount) if e.amount is not None else Decimal(0)
        while e.amount is not None and j < n and entries[j].amount is not None:
            total += entries[j].amount.yuan
            tolerance = step * max(1, (j - i) // 2)
            if abs(total - e.amount.yuan) <= tolerance and (tolerance == step or j > i + 2):
                end = j
                break
            if total > e.amount.yuan + tolerance:
                break
            j += 1
        if end is not None and (end > i + 1 or _ORGANISATION.search(e.name)):
            group = e.name
            for child in entries[i + 1:end + 1]:
                if groups_are_units:
                    child.implementing_unit = child.implementing_unit or group
                else:
                    child.category = child.category or group
            i += 1
            continue
        out.append(e)
        i += 1
    return out
