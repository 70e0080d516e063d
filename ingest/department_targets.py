"""部门整体支出绩效目标表 / 部门整体预算绩效目标申报表 → :class:`DepartmentTargetTable`.

Parts, each recognised by its labels: 部门名称; 基本信息 (财政供养人员数); 预算整体情况 (基本支出 /
项目支出, 万元 by the heading); 总体绩效目标; 年度重点工作任务 (名称 | 主要实施内容 | 拟投入的资金 |
期望达到的目标) and 其他需完成的任务（可选填）; then the indicator rows. Task columns are taken from
each task heading row, because the optional-task heading orders them differently.
"""
from __future__ import annotations

import re

from .amounts import is_amount, parse_money, unit_of_label
from .indicators import IndicatorReader, layout_rows, read_header
from .project_targets import MoneyContext, caption_unit, document_money_units
from .records import DepartmentTargetTable, KeyTask, Money, Span
from .sections import is_heading
from .text import Line, key
from .vocab import DEPARTMENT_FIELDS, match_field

_TASK_ROLES = [
    (re.compile(r"^(任务)?名称$|^重点(工作)?任务名称$"), "name"),
    (re.compile(r"(主要)?实施内容$|^目标内容$|^(任务)?内容$"), "content"),
    (re.compile(r"资金|金额|预算"), "amount"),
    (re.compile(r"期望达到的目标|预期目标|绩效目标|目标\(概述\)"), "outcome"),
]
_TASKS_LABEL = re.compile(r"年度重点工作任务|重点工作任务")
_OPTIONAL_LABEL = re.compile(r"其他需完成的任务|可选")


_LABEL_UNIT = re.compile(r"\((万元|元)\)$|单位:(万元|元)$")


def label_unit(cell: str) -> str | None:
    """The money unit a label cell names at its end: 预算金额（万元）, 拟投入的资金(元)."""
    m = _LABEL_UNIT.search(key(cell))
    return (m.group(1) or m.group(2)) if m else None


def _task_roles(line: Line) -> tuple[dict[int, str], str | None] | None:
    """Column roles of a task heading row, and the money unit its amount heading names (None when
    it names none)."""
    roles: dict[int, str] = {}
    unit = None
    for i, cell in line.filled:
        k = key(cell)
        for pattern, role in _TASK_ROLES:
            if pattern.search(k) and role not in roles.values():
                roles[i] = role
                if role == "amount":
                    unit = unit_of_label(cell, default="") or None
                break
    if "name" in roles.values() and ("content" in roles.values() or "amount" in roles.values()):
        return roles, unit
    return None


class DepartmentTableReader:
    def __init__(self, path: str, lines: list[Line], start: int, end: int, money: MoneyContext | None = None):
        self.path, self.lines, self.start, self.end = path, lines, start, end
        self.money = money or MoneyContext(None, set())

    def _amount(self, t: DepartmentTargetTable, printed: str, unit: str | None, what: str) -> Money | None:
        """An amount in the unit its label names, else the table's caption or the document's; with
        none of them it is not read (a warning says so), never guessed."""
        unit = unit or self.money.unit()
        if unit is None:
            t.warnings.append(f"{what} {printed!r} not read: {self.money.why_not()}")
            return None
        return parse_money(printed, unit)

    def read(self) -> DepartmentTargetTable:
        lines = self.lines
        t = DepartmentTargetTable(span=Span(lines[self.start].no, lines[self.start].no))
        money_unit: str | None = None
        roles: dict[int, str] | None = None
        task_unit: str | None = None
        optional = False
        current: KeyTask | None = None
        reader: IndicatorReader | None = None
        goal_mode = False
        last = self.start
        tabbed = lines[self.start].tabbed
        for i in range(self.start, self.end):
            line = lines[i]
            # in a tab-separated table, untabbed lines are titles and page furniture
            if not line.filled or (tabbed and not line.tabbed) or (not tabbed and len(line.filled) < 2 and not goal_mode):
                continue
            if is_heading(line) and not line.tabbed:
                break
            last = i
            cells = line.filled
            first = key(cells[0][1])
            # -- indicator part ------------------------------------------------------------------
            header = read_header(line)
            if header is not None and line.grid is None and "\t" not in line.raw:
                # pdftotext -layout: level names centred on the rows they span, cells wrapped over
                # lines around their row — the grid is rebuilt from positions
                reader = reader or IndicatorReader(header)
                reader.header = header
                rows, last_row = layout_rows(lines, i + 1, self.end, line, header)
                for row in rows:
                    reader.row(row, positional=True)
                last = max(last, last_row)
                break
            if header is not None:
                if reader is None:
                    reader = IndicatorReader(header)
                else:
                    reader.header = header
                goal_mode = False
                roles = None
                continue
            if reader is not None:
                reader.row(line)
                continue
            # -- task heading rows -----------------------------------------------------------------
            found = _task_roles(line)
            if found is not None:
                roles, task_unit = found
                optional = any(_OPTIONAL_LABEL.search(key(c)) for _, c in cells)
                current = None
                goal_mode = False
                continue
            if roles is not None:
                if _OPTIONAL_LABEL.search(first) and len(cells) == 1:
                    optional = True
                    continue
                current = self._task_row(t, line, roles, task_unit or self.money.unit(), optional, current)
                continue
            # -- key/value part ------------------------------------------------------------------
            for _, c in cells:
                money_unit = label_unit(c) or money_unit  # 预算金额（万元）, 年度预算安排（万元）
            field = match_field(cells[0][1], DEPARTMENT_FIELDS)
            rest = [c for _, c in cells[1:]]
            if field == "unit_name" and rest:
                t.unit_name = rest[0]
            elif field == "overall_goal":
                t.overall_goal = "\n".join(rest) if rest else None
                goal_mode = True
                continue
            elif first in ("基本信息",) or "财政供养人员数" in [key(c) for c in rest]:
                ks = [key(c) for _, c in cells]
                if "财政供养人员数" in ks:
                    j = ks.index("财政供养人员数")
                    if j + 1 < len(ks) and ks[j + 1].isdigit():
                        t.staff_count = int(ks[j + 1])
            for j, (_, c) in enumerate(cells):
                k = key(c)
                nxt = cells[j + 1][1] if j + 1 < len(cells) else None
                if nxt is None or not is_amount(nxt):
                    continue
                if k == "基本支出" and t.basic_expenditure is None:
                    t.basic_expenditure = self._amount(t, nxt, money_unit, "基本支出")
                elif k == "项目支出" and t.project_expenditure is None:
                    t.project_expenditure = self._amount(t, nxt, money_unit, "项目支出")
            if goal_mode and field is None and not _TASKS_LABEL.search(first):
                # 总体目标 continues over rows (永登: 目标 1 / 目标 2 / 目标 3)
                texts = [c for _, c in cells if not re.fullmatch(r"总体(绩效)?目标", key(c))]
                if texts and not any(is_amount(x) for x in texts) and "预算" not in first:
                    t.overall_goal = "\n".join(filter(None, [t.overall_goal, *texts]))
                    continue
                goal_mode = False
        if reader is not None:
            t.indicators = reader.indicators
            t.warnings.extend(reader.warnings)
        t.span = Span(lines[self.start].no, lines[last].no)
        return t

    def _task_row(
        self,
        t: DepartmentTargetTable,
        line: Line,
        roles: dict[int, str],
        unit: str | None,
        optional: bool,
        current: KeyTask | None,
    ) -> KeyTask | None:
        got: dict[str, str] = {}
        for col, cell in line.filled:
            role = roles.get(col)
            if role is None:
                if col < min(roles) and (_TASKS_LABEL.search(key(cell)) or _OPTIONAL_LABEL.search(key(cell))):
                    continue  # the section label printed in a data row
                if col < min(roles):
                    continue  # wrapped remains of a label such as "填)"
                role = _nearest_role(roles, col)
            got[role] = (got[role] + cell) if role in got else cell
        if not got:
            return current
        name = got.get("name")
        if name is None and current is not None and current.optional == optional:
            self._extend(t, current, got, unit)  # the task's text continues on this row
            return current
        if name is not None and current is not None and current.name == "" and current.optional == optional:
            current.name = name
            got.pop("name")
            self._extend(t, current, got, unit)
            current.span = current.span.merge(Span(line.no, line.no))
            return current
        task = KeyTask(name=name or "", span=Span(line.no, line.no), optional=optional)
        self._extend(t, task, {k: v for k, v in got.items() if k != "name"}, unit)
        t.tasks.append(task)
        return task

    def _extend(self, t: DepartmentTargetTable, task: KeyTask, got: dict[str, str], unit: str | None) -> None:
        for role, text in got.items():
            if role == "amount":
                if is_amount(text):
                    money = self._amount(t, text, unit, f"key task {task.name!r}: amount")
                    if money is not None:
                        task.amount = money
                continue
            old = getattr(task, role if role != "outcome" else "outcome")
            setattr(task, role if role != "outcome" else "outcome", (old or "") + text)


def _nearest_role(roles: dict[int, str], col: int) -> str:
    before = [c for c in roles if c <= col]
    return roles[max(before)] if before else roles[min(roles)]


def _read_cells(path: str, lines: list[Line], start: int, end: int, money: MoneyContext | None = None) -> DepartmentTargetTable:
    """One cell per line: labels, task rows and indicator rows follow each other cell by cell."""
    from .indicators import read_stream
    from .project_targets import _synthetic_header
    from .sections import is_title

    t = DepartmentTargetTable(span=Span(lines[start].no, lines[end - 1].no))
    cells = [(ln.no, ln.text) for ln in lines[start:end] if ln.filled and not is_title(ln) and not is_heading(ln)]
    i, n = 0, len(cells)
    roles: list[str] = []
    money = money or MoneyContext(None, set())
    task_unit: str | None = None
    money_unit: str | None = None
    optional = False

    def amount(printed: str, unit: str | None, what: str):
        unit = unit or money.unit()
        if unit is None:
            t.warnings.append(f"{what} {printed!r} not read: {money.why_not()}")
            return None
        return parse_money(printed, unit)

    while i < n:
        no, text = cells[i]
        k = key(text)
        nxt = cells[i + 1][1] if i + 1 < n else None
        money_unit = label_unit(text) or money_unit
        if re.fullmatch(r"(部门|单位|部门\(单位\)|部门/单位)名称", k) and nxt:
            t.unit_name = nxt
            i += 2
            continue
        if k == "财政供养人员数" and nxt and nxt.isdigit():
            t.staff_count = int(nxt)
            i += 2
            continue
        if k in ("基本支出", "项目支出") and nxt and is_amount(nxt):
            setattr(t, "basic_expenditure" if k == "基本支出" else "project_expenditure", amount(nxt, money_unit, k))
            i += 2
            continue
        if match_field(text, DEPARTMENT_FIELDS) == "overall_goal":
            goal = []
            i += 1
            while i < n and not _TASKS_LABEL.search(key(cells[i][1])) and key(cells[i][1]) not in ("名称",):
                goal.append(cells[i][1])
                i += 1
            t.overall_goal = "\n".join(goal) or None
            continue
        if _OPTIONAL_LABEL.search(k):
            optional = True
            i += 1
            continue
        # a task heading: 名称 | 主要实施内容 | 拟投入的资金 | 期望达到的目标, one per line
        heading = []
        j = i
        while j < n:
            role = next((r for pat, r in _TASK_ROLES if pat.search(key(cells[j][1]))), None)
            if role is None or role in heading:
                break
            if role == "amount":
                task_unit = unit_of_label(cells[j][1], default="") or None
            heading.append(role)
            j += 1
        if "name" in heading and len(heading) >= 2:
            roles, i = heading, j
            continue
        if k in ("一级指标", "绩效指标") or k.startswith("一级指标"):
            header, j = _synthetic_header(lines[: end], next(x for x in range(start, end) if lines[x].no == no))
            if header is not None:
                rest = [(c_no, c) for c_no, c in cells if c_no >= lines[j].no] if j < end else []
                t.indicators, found_warnings = read_stream(rest, header)
                t.warnings.extend(found_warnings)
                break
        if roles and not _TASKS_LABEL.search(k):
            task = KeyTask(name="", span=Span(no, no), optional=optional)
            for role in roles:
                if i >= n:
                    break
                c = cells[i][1]
                if role == "amount" and not is_amount(c):
                    continue  # no amount printed for this task
                if role == "name" and _OPTIONAL_LABEL.search(key(c)):
                    break
                if role == "amount":
                    task.amount = amount(c, task_unit, f"key task {task.name!r}: amount")
                else:
                    setattr(task, role, c)
                task.span = task.span.merge(Span(cells[i][0], cells[i][0]))
                i += 1
            if task.name:
                t.tasks.append(task)
            continue
        i += 1
    return t


def read_department_table(path: str, lines: list[Line], start: int, end: int, caption: str | None = None) -> DepartmentTargetTable:
    money = MoneyContext(caption or caption_unit(lines, start, min(end, start + 8)), document_money_units(lines))
    first = lines[start]
    if not first.tabbed and len(first.filled) == 1:
        table = _read_cells(path, lines, start, end, money)
    else:
        table = DepartmentTableReader(path, lines, start, end, money).read()
    # a task whose name never came is kept only if it has content; its name then says so
    for task in table.tasks:
        if not task.name:
            task.name = (task.content or "")[:30] or "（未命名任务）"
            table.warnings.append(f"line {task.span.start}: key task without a 名称; named from its content")
    table.tasks = [x for x in table.tasks if x.name]
    return table
