"""项目绩效目标表 → :class:`ProjectTargetTable`.

The same reader serves 项目绩效目标表 (东莞: 元, two target columns), 项目支出绩效目标表 (永登: 万元,
one 指标值 column) and 财政项目支出绩效目标申报表 (项目资金总额 vs 年度资金申请总额, 长期/年度 targets),
in tab-separated rows, space-aligned columns, or one cell per line. Field labels are recognised by
vocabulary (:data:`ingest.vocab.PROJECT_FIELDS`); a value is whatever follows its label.
"""
from __future__ import annotations

import re

from .amounts import is_amount, parse_money, unit_of_label
from .errors import ParseError
from .indicators import IndicatorHeader, IndicatorReader, is_section_label, read_header, read_stream
from .records import ProjectTargetTable, Span
from .sections import is_heading, is_title
from .text import Line, key
from .vocab import ANNUAL_VALUE, INDICATOR_HEADER, PERIOD_VALUE, PROJECT_FIELDS, match_field

_YEAR = re.compile(r"(20\d{2}|19\d{2})")
_LABEL_VALUE = re.compile(r"^([^：:]{2,14})[：:]\s*(.+)$")


def _synthetic_header(lines: list[Line], i: int) -> tuple[IndicatorHeader | None, int]:
    """Cell mode: heading cells (一级指标, 二级指标 …) stand on consecutive lines."""
    cells: list[str] = []
    j = i
    while j < len(lines) and len(cells) < 8:
        line = lines[j]
        if not line.filled:
            j += 1
            continue
        k = key(line.text)
        if is_section_label(k) or k in ("一级指标", "二级指标") or INDICATOR_HEADER.match(k) or PERIOD_VALUE.match(k) or ANNUAL_VALUE.match(k):
            cells.append(line.text)
            j += 1
            continue
        break
    header = read_header(Line(lines[i].no, "\t".join(cells), tuple(cells)))
    return header, j


class ProjectTableReader:
    """Reads one project table from ``lines[start:end]``."""

    def __init__(self, path: str, lines: list[Line], start: int, end: int):
        self.path, self.lines, self.start, self.end = path, lines, start, end
        self.values: dict[str, list[tuple[int, str]]] = {}
        self.labels: dict[str, str] = {}  # field → label as printed (carries units such as （元）)
        self.current: str | None = None
        self.goal_part: str | None = None
        self.goal_cols: dict[int, str] = {}

    # -- key/value part -----------------------------------------------------------------------
    def _take(self, no: int, cell: str) -> None:
        field = match_field(cell, PROJECT_FIELDS)
        if field is None:
            m = _LABEL_VALUE.match(cell)
            if m and match_field(m.group(1), PROJECT_FIELDS):
                self._take(no, m.group(1))
                self._take(no, m.group(2))
                return
        if field is not None and not (self.current == "name" and not self.values.get("name")):
            if field == "goals":
                self.current, self.goal_part = "goals", None
            elif field in ("overall_goal", "annual_goal"):
                self.current = field
            else:
                self.current = field
            self.labels.setdefault(field, cell)
            self.values.setdefault(self.current, [])
            return
        if self.current is None:
            return
        self.values.setdefault(self.current, []).append((no, cell))

    def _goal_columns(self, line: Line) -> bool:
        """申报表 print 长期目标 | 年度目标 side by side, their texts in the row(s) below: remember
        which column is which (returns True for that heading row)."""
        fields = {col: match_field(cell, PROJECT_FIELDS) for col, cell in line.filled}
        goal = {col: f for col, f in fields.items() if f in ("overall_goal", "annual_goal")}
        if len(set(goal.values())) == 2 and line.tabbed:
            for col, f in fields.items():
                if f is not None:
                    self.labels.setdefault(f, dict(line.filled)[col])
            self.goal_cols = goal
            self.current = None
            return True
        if self.goal_cols and any(f is not None and f not in ("goals",) for f in fields.values()):
            self.goal_cols = {}  # a new label row: the goal texts are over
        return False

    def _goal_targets(self, line: Line) -> dict[int, str]:
        """Column → goal field for a row under a side-by-side goal heading (nearest heading column)."""
        cols = sorted(self.goal_cols)
        out = {}
        for col, _ in line.filled:
            nearest = min(cols, key=lambda c: (abs(c - col), c))
            if match_field(dict(line.filled)[col], PROJECT_FIELDS) is None:
                out[col] = self.goal_cols[nearest]
        return out

    def _mode(self) -> str:
        first = self.lines[self.start]
        if first.tabbed:
            return "tab"
        return "layout" if len(first.filled) >= 2 else "cell"

    def _is_cell_line(self, line: Line, mode: str) -> bool:
        """Lines that carry table cells; titles, page numbers and blank lines between rows do not."""
        if not line.filled:
            return False
        if mode == "tab":
            return line.tabbed
        return not is_title(line) and not is_heading(line)

    def read(self) -> ProjectTargetTable:
        lines, i = self.lines, self.start
        mode = self._mode()
        header: IndicatorHeader | None = None
        # key/value part, up to the indicator heading
        while i < self.end:
            line = lines[i]
            if not self._is_cell_line(line, mode):
                i += 1
                continue
            header = read_header(line)
            if header is not None:
                i += 1
                break
            if mode == "cell":
                k = key(line.text)
                if is_section_label(k) or k == "一级指标":
                    header, i = _synthetic_header(lines, i)
                    if header is not None:
                        break
            if self._goal_columns(line):
                i += 1
                continue
            for col, cell in line.filled:
                if self.goal_cols and col in self._goal_targets(line):
                    self.values.setdefault(self._goal_targets(line)[col], []).append((line.no, cell))
                else:
                    self._take(line.no, cell)
            i += 1
        table = self._build()
        if table.amount is None:
            raise ParseError(self.path, f"project table {table.name!r}: no readable amount (年度预算金额 / 年度资金总额 "
                             "missing or not a number)", lines[self.start].no)
        if header is None:
            table.warnings.append(f"project {table.name!r}: no indicator table found")
            return table
        last = i - 1
        if not any(self._is_cell_line(lines[j], mode) for j in range(i, self.end)):
            raise ParseError(self.path, f"the indicator table of project {table.name!r} ends after its heading "
                             "(truncated document?)", lines[i - 1].no)
        if mode == "cell":
            cells: list[tuple[int, str]] = []
            while i < self.end:
                line = lines[i]
                if self._is_cell_line(line, mode):
                    cells.extend((line.no, c) for _, c in line.filled)
                    last = i
                i += 1
            table.indicators, warnings = read_stream(cells, header)
        else:
            reader = IndicatorReader(header)
            while i < self.end:
                line = lines[i]
                if self._is_cell_line(line, mode):
                    again = read_header(line)
                    if again is not None:
                        reader.header = again  # continued on a new page with its heading repeated
                    else:
                        reader.row(line)
                    last = i
                i += 1
            table.indicators, warnings = reader.indicators, reader.warnings
        table.span = Span(lines[self.start].no, lines[last].no)
        table.warnings.extend(warnings)
        return table

    # -- fields ---------------------------------------------------------------------------------
    def _text(self, field: str) -> str | None:
        parts = [c for _, c in self.values.get(field, []) if c]
        return "\n".join(parts) if parts else None

    def _money(self, field: str, unit: str):
        for _, cell in self.values.get(field, []):
            if is_amount(cell):
                return parse_money(cell, unit)
        return None

    def _build(self) -> ProjectTargetTable:
        first = self.lines[self.start]
        name = self._text("name")
        if not name:
            raise ParseError(self.path, "project table without a 项目名称 value", first.no)
        name = name.replace("\n", "")
        t = ProjectTargetTable(name=name, span=Span(first.no, first.no))
        t.project_type = self._text("project_type")
        t.project_level = self._text("project_level")
        t.competent_department = self._text("competent_department")
        t.implementing_unit = self._text("implementing_unit")
        t.basis = self._text("basis")
        t.summary = self._text("summary")
        # 实施周期: 起始年度 2022 到期年度 2099, or a printed range "2024 年 1 月 1 日-2024 年 12 月 31 日"
        sy = [int(y) for _, c in self.values.get("start_year", []) for y in _YEAR.findall(c)]
        ey = [int(y) for _, c in self.values.get("end_year", []) for y in _YEAR.findall(c)]
        py = [int(y) for _, c in self.values.get("period", []) for y in _YEAR.findall(c)]
        t.start_year = sy[0] if sy else (py[0] if py else None)
        t.end_year = ey[0] if ey else (py[-1] if len(py) > 1 else None)
        # amounts: the year's budget (元 or 万元 by the label), or 年度资金(申请)总额 under 项目资金 (万元)
        funds_unit = unit_of_label(self.labels.get("funds", ""), default="元")
        if "amount" in self.values:
            label = self.labels["amount"]
            t.amount = self._money("amount", unit_of_label(label, default=funds_unit))
            years = _YEAR.findall(label)
            t.amount_year = int(years[0]) if years else None
        if t.amount is None and "annual_funds" in self.values:
            t.amount = self._money("annual_funds", unit_of_label(self.labels["annual_funds"], default=funds_unit))
        if "total_funds" in self.values:
            t.total_funds = self._money("total_funds", unit_of_label(self.labels["total_funds"], default=funds_unit))
        if t.amount is None and t.total_funds is not None and "annual_funds" not in self.values:
            t.amount = t.total_funds
        for field, attr in (("appropriation", "current_year_appropriation"), ("carry_over", "carry_over"), ("other_funds", "other_funds")):
            if field in self.values:
                setattr(t, attr, self._money(field, unit_of_label(self.labels[field], default=funds_unit)))
        # goals: 总体绩效目标 › 实施周期总目标 / 2024年度目标, or a single 总体目标 text
        t.overall_goal = self._text("overall_goal") or self._text("goals")
        t.annual_goal = self._text("annual_goal")
        if self.labels.get("annual_goal") and t.amount_year is None:
            years = _YEAR.findall(key(self.labels["annual_goal"]))
            t.amount_year = int(years[0]) if years else None
        return t


def read_project_table(path: str, lines: list[Line], start: int, end: int) -> ProjectTargetTable:
    return ProjectTableReader(path, lines, start, end).read()
