"""绩效自评表 (项目支出绩效自评表 / 部门整体绩效自评表) → :class:`SelfEvaluation`.

The template sets what was planned beside what was achieved, in three parts, each recognised by
its labels:

* the money part: a heading row naming 年初预算数 (年初部门预算安排金额), 年中调整, 全年预算数 /
  小计, 全年执行数 (年度拨付金额), 执行率 (支出实现率), 分值 and 得分, and under it the 合计 /
  年度资金总额 row. Amounts are read in the unit the part prints (项目资金（万元）) or the table's
  caption, else the document's; with none anywhere they are not read (a warning says so) — the
  indicators are read all the same;
* 年度总体目标: 预期目标 beside 实际完成情况;
* the indicator grid: 一级/二级/三级指标, 年度指标值, 实际完成值, 分值, 得分, 偏差原因分析及改进措施
  (:mod:`ingest.indicators`), then 总分 and 评价等级.
"""
from __future__ import annotations

import re

from .amounts import is_amount, parse_money
from .errors import ParseError
from .indicators import IndicatorReader, read_header
from .project_targets import MoneyContext, _web_row, caption_unit, document_money_units, is_furniture
from .records import SelfEvaluation, Span
from .text import Line, key

_YEAR = re.compile(r"(20\d{2})\s*年")

#: money-part headings (pattern on the matching key, role)
_MONEY_ROLES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^年初.{0,8}(预算|安排).{0,12}$"), "budget"),
    (re.compile(r"^年中调整|^调整(金额|数)"), "adjustment"),
    (re.compile(r"^全年预算数|^调整后预算|^小计|^全年预算"), "adjusted"),
    (re.compile(r"^全年执行数|^执行数|^年度拨付|^拨付金额|^实际支出|^决算数"), "executed"),
    (re.compile(r"执行率|实现率"), "rate"),
    (re.compile(r"^分值"), "score"),
    (re.compile(r"^得分"), "self_score"),
]
#: the row of the money part that holds the table's totals
_TOTAL_ROW = re.compile(r"^(合计|年度资金总额|总计|资金总额)")
_NAME_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(项目|专项|专项资金|政策)名称$"), "name"),
    (re.compile(r"^(部门|单位|部门\(单位\)|预算单位)名称$"), "unit_name"),
    (re.compile(r"^主管部门(及代码)?$"), "competent_department"),
    (re.compile(r"^(项目)?实施单位$"), "implementing_unit"),
]
_GOAL_PLANNED = re.compile(r"^预期目标$|^年度目标$")
_GOAL_ACHIEVED = re.compile(r"实际完成情况$|^实际完成$")
_TOTAL_SCORE = re.compile(r"^总分|评价总分")
_GRADE = re.compile(r"^(评价|自评)等级$|^等级$")


def _money_roles(line: Line) -> dict[int, str]:
    out: dict[int, str] = {}
    for col, cell in line.filled:
        k = key(cell)
        for pattern, role in _MONEY_ROLES:
            if pattern.search(k) and role not in out.values():
                out[col] = role
                break
    return out


def _label(cell: str, table: list[tuple[re.Pattern[str], str]]) -> str | None:
    k = key(cell)
    return next((f for p, f in table if p.search(k)), None)


class SelfEvaluationReader:
    """Reads one 绩效自评表 from ``lines[start:end]``."""

    def __init__(self, path: str, lines: list[Line], start: int, end: int, money: MoneyContext, title: str = ""):
        self.path, self.lines, self.start, self.end = path, lines, start, end
        self.money, self.title = money, title

    def read(self) -> SelfEvaluation:
        lines = self.lines
        fields: dict[str, str] = {}
        money_roles: dict[int, str] | None = None
        money_label = ""
        totals: dict[str, str] = {}
        goal_cols: dict[int, str] | None = None
        goals: dict[str, list[str]] = {}
        reader: IndicatorReader | None = None
        total_score = grade = None
        first = last = None
        for j in range(self.start, self.end):
            ln = lines[j]
            if not ln.filled or is_furniture(ln):
                continue
            if not ln.tabbed:
                if reader is not None and len(ln.text.split()) > 2:
                    ln = _web_row(ln)
                elif len(ln.filled) < 2:
                    continue
            first = first if first is not None else ln.no
            cells = ln.filled
            k0 = key(cells[0][1])
            # closing rows: 总分, 评价等级
            if _TOTAL_SCORE.search(k0):
                total_score = next((c for _, c in reversed(cells[1:]) if is_amount(c)), total_score)
                last = ln.no
                continue
            if _GRADE.search(k0):
                grade = next((c for _, c in cells[1:]), grade)
                last = ln.no
                continue
            header = read_header(ln)
            if header is not None:
                reader = IndicatorReader(header) if reader is None else reader
                reader.header = header
                goal_cols = None
                last = ln.no
                continue
            if reader is not None:
                reader.row(ln)
                last = ln.no
                continue
            # 年度总体目标: 预期目标 | 实际完成情况, their texts in the row below
            planned = [c for c, t in cells if _GOAL_PLANNED.search(key(t))]
            achieved = [c for c, t in cells if _GOAL_ACHIEVED.search(key(t))]
            if planned and achieved:
                goal_cols = {planned[0]: "planned", achieved[0]: "achieved"}
                last = ln.no
                continue
            if goal_cols is not None:
                cols = sorted(goal_cols)
                for col, text in cells:
                    near = max((c for c in cols if c <= col), default=cols[0])
                    goals.setdefault(goal_cols[near], []).append(text)
                last = ln.no
                continue
            roles = _money_roles(ln)
            if len(roles) >= 2:
                # a heading over two rows (预算安排 … 分值 | 得分, then 年初… | 年中调整 | 小计 …)
                money_roles = {**(money_roles or {}), **roles}
                money_label = money_label or cells[0][1]
                last = ln.no
                continue
            if money_roles is not None and not totals and any(_TOTAL_ROW.search(key(t)) for _, t in cells):
                totals = {money_roles[c]: t for c, t in cells if c in money_roles}
                last = ln.no
                continue
            # name fields: label | value
            for n, (col, text) in enumerate(cells[:-1]):
                f = _label(text, _NAME_FIELDS)
                if f and f not in fields and _label(cells[n + 1][1], _NAME_FIELDS) is None:
                    fields[f] = cells[n + 1][1]
            if money_roles is None and re.search(r"万元|元", key(cells[0][1])):
                money_label = cells[0][1]
            last = ln.no
        subject = "project" if "项目" in key(self.title) or "项目" in key(fields.get("name", "")) and "部门整体" not in key(self.title) else "department"
        if "部门整体" in key(self.title) or "整体" in key(fields.get("name", "")):
            subject = "department"
        name = fields.get("name") or fields.get("unit_name")
        if not name:
            raise ParseError(self.path, "self-evaluation table without a 项目名称 / 专项名称 / 单位名称", lines[self.start].no)
        if reader is None:
            raise ParseError(self.path, f"self-evaluation table {name!r}: no indicator grid (一级/二级/三级指标 heading)",
                             lines[self.start].no)
        se = SelfEvaluation(subject=subject, name=name, span=Span(first or lines[self.start].no, last or lines[self.start].no))
        se.unit_name = fields.get("unit_name")
        se.competent_department = fields.get("competent_department")
        se.implementing_unit = fields.get("implementing_unit")
        years = _YEAR.findall(re.sub(r"\s", "", self.title))
        se.year = int(years[0]) if years else None
        se.planned_goal = "\n".join(goals.get("planned", [])) or None
        se.achieved_goal = "\n".join(goals.get("achieved", [])) or None
        se.total_score, se.grade = total_score, grade
        se.indicators, se.warnings = reader.indicators, list(reader.warnings)
        self._money(se, totals, money_label)
        return se

    def _money(self, se: SelfEvaluation, totals: dict[str, str], label: str) -> None:
        se.execution_rate = totals.get("rate")
        se.budget_score, se.budget_self_score = totals.get("score"), totals.get("self_score")
        amounts = {r: v for r, v in totals.items() if r in ("budget", "adjustment", "adjusted", "executed") and is_amount(v)}
        if not amounts:
            return
        unit = self.money.unit(label)
        if unit is None:
            se.warnings.append(f"self-evaluation {se.name!r}: amounts {sorted(amounts.values())} not read: {self.money.why_not()}")
            return
        for role, v in amounts.items():
            setattr(se, role, parse_money(v, unit))


def read_self_evaluation(path: str, lines: list[Line], start: int, end: int, caption: str | None = None) -> SelfEvaluation:
    title_lines = [ln.text for ln in lines[max(0, start - 3):min(end, start + 3)] if ln.filled and not ln.tabbed]
    money = MoneyContext(caption or caption_unit(lines, start, min(end, start + 8)), document_money_units(lines))
    return SelfEvaluationReader(path, lines, start, end, money, title=" ".join(title_lines)).read()
