"""勾稽: the documents' own arithmetic, the one implementation of every check.

A budget disclosure adds up: a table's 合计 is the sum of its top-level coded lines; a 类 is the sum
of its 款 and a 款 of its 项; on each line 合计 = 基本支出 + 项目支出 (+ 事业单位经营支出 …) and
基本支出 = 人员经费 + 公用经费; the 收支总表 balances (收入总计 = 支出总计, 收入总计 = 本年收入合计 +
上年结转结余 …); the same figure printed in two tables agrees (收支总表 本年支出合计 = 支出总表 合计,
财政拨款收支总表 一般公共预算 = 一般公共预算支出表 合计 …); a project's amount in its 绩效目标表 agrees
with the 重点项目 list. A document read right
passes these checks; a DIFF points at a misread table or at an error in the document itself.

The rules run on :class:`Figures` — the printed amounts of one document, with their lines — which
come either from a parsed document (:func:`document_figures`, for ``budgetkg inspect`` and the
benchmark) or from the store (:mod:`ingest.checks`, for ``budgetkg check``): two sources, one set of
rules. This module reads its input by attribute only (no record classes), so that the benchmark can
also apply it to the records of an older parser.

Tolerance comes from how the figures were printed: an amount printed to 0.01 万元 may be off by half
of that (50 元) from the exact figure, so a sum of *n* printed figures compared with a printed total
may differ by up to (n + 1) × 50 元; to whole 元, (n + 1) × 0.5 元.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from .text import key

#: 元 per printed unit
UNIT_YUAN = {"元": Decimal(1), "万元": Decimal(10000), "千元": Decimal(1000), "亿元": Decimal(100_000_000)}
#: decimals assumed where no printed amount says (a table with a total only)
DEFAULT_DECIMALS = 2
#: code length → level name (功能分类 类 3 / 款 5 / 项 7; 经济分类 类 3 / 款 5)
LEVEL = {3: "类", 5: "款", 7: "项"}
#: parts of a line's 合计 in the national 支出 templates (besides 基本支出 and 项目支出, which must both be named)
EXTRA_SPENDING_PARTS = ("事业单位经营支出", "上缴上级支出", "对附属单位补助支出")

# table kinds (local names of the bkg:TableKinds concepts, see ingest.classify)
SUMMARY = "IncomeExpenditureSummary"
FISCAL_SUMMARY = "FiscalAppropriationSummary"
EXPENDITURE = "ExpenditureTable"
INCOME = "IncomeTable"
FISCAL_EXPENDITURE = "FiscalAppropriationExpenditure"
#: fund-scoped expenditure tables and the label their figure carries in the 财政拨款收支总表
FUND_TABLES = {"GeneralBudgetExpenditure": "一般公共预算", "GovernmentFundExpenditure": "政府性基金",
               "StateCapitalExpenditure": "国有资本经营"}
FUND_SCOPES = {"general-public-budget": "一般公共预算", "government-fund": "政府性基金", "state-capital": "国有资本经营"}

#: an amount column the reader could not name (a layout line whose amounts do not match the headings)
UNNAMED_COLUMN = re.compile(r"第\d+栏|\d+")
#: the lists that name projects with their amounts: every 重点项目 has a 绩效目标表; a 项目支出表 lists
#: every project, only some of which print one
KEY_PROJECT_LIST = "项目清单"
PROJECT_LIST = "项目支出表"
_ENUM = re.compile(r"^([一二三四五六七八九十]{1,3}[、.．]|[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[、.．])")
_BRACKETS = re.compile(r"[()（）\[\]【】\s]")


def label_key(label: str) -> str:
    """A printed row or column label as a matching key: NFKC, no enumeration (一、 / （一）), no
    brackets, no leading 其中：. Only for matching; labels keep their printed form."""
    # a heading composed over header rows (支出预算›基本支出) is matched by its own last part
    k = key(label).split("›")[-1]
    k = _ENUM.sub("", k)
    k = _BRACKETS.sub("", k)
    return k.removeprefix("其中:").removeprefix("其中")


def decimals(printed: str | None) -> int | None:
    """Digits after the decimal point as printed ("1,938,609.21" → 2, "920000" → 0)."""
    if not printed:
        return None
    digits = re.sub(r"[^\d.]", "", printed)
    if not digits:
        return None
    return len(digits.rsplit(".", 1)[1]) if "." in digits else 0


def step_of(printed: str | None, unit: str | None) -> Decimal | None:
    """The rounding step of a printed amount, in 元 (0.01 万元 → 100 元)."""
    d = decimals(printed)
    if d is None:
        return None
    return UNIT_YUAN.get(unit or "元", Decimal(1)) * Decimal(1).scaleb(-d)


# -- the figures of one document ------------------------------------------------------------------
@dataclass
class CodedLine:
    code: str
    amount: Decimal
    line: int
    #: (heading as printed, amount) of the line's named amount columns, in column order
    columns: list[tuple[str, Decimal]] = field(default_factory=list)
    #: the second code printed on the row (部门预算 301 beside 政府预算 501): a cross-classified table
    #: repeats each 部门 类 under several 政府 类, so a line is one (code, cross) pair
    cross: str | None = None

    @property
    def label(self) -> str:
        return self.code if self.cross is None else f"{self.code}×{self.cross}"

    def under(self, parent: "CodedLine") -> bool:
        """Whether this line is one level finer than ``parent`` in both of its classifications."""
        if len(self.code) != len(parent.code) + 2 or not self.code.startswith(parent.code):
            return False
        # a cross-coded row belongs to the parent of its second code too (30101×50101 under 301×501,
        # not under 301×505); a side printed without a second code constrains nothing
        return self.cross is None or parent.cross is None or self.cross.startswith(parent.cross)


@dataclass
class SummaryRow:
    label: str
    amount: Decimal
    line: int


@dataclass
class TableFigures:
    """The printed amounts of one budget table."""

    title: str
    kind: str | None  # bkg:TableKinds local name; None from parsers that did not classify tables
    flow: str
    fund: str
    etype: str
    line: int  # where the table starts
    total: Decimal | None = None
    lines: list[CodedLine] = field(default_factory=list)
    summary: list[SummaryRow] = field(default_factory=list)
    step: Decimal = Decimal(100)  # rounding step of its printed amounts, in 元

    def coded(self) -> dict[str, CodedLine]:
        """Each line once by its label (code, or code×second code), at its first printing (a table
        split over pages repeats none)."""
        out: dict[str, CodedLine] = {}
        for ln in sorted(self.lines, key=lambda x: x.line):
            out.setdefault(ln.label, ln)
        return out

    def row(self, *labels: str) -> SummaryRow | None:
        """The first summary row whose label key is one of ``labels`` (in that order of preference)."""
        keys = {}
        for r in self.summary:
            keys.setdefault(label_key(r.label), r)
        return next((keys[x] for x in labels if x in keys), None)

    def row_starting(self, prefix: str) -> SummaryRow | None:
        return next((r for r in self.summary if label_key(r.label).startswith(prefix)), None)


@dataclass
class ProjectFigure:
    """A project of a 绩效目标表 with its amount."""

    name: str
    amount: Decimal | None
    line: int
    project_type: str | None = None
    step: Decimal = Decimal(1)
    unit: str | None = None  # 实施单位 / 用款单位 as printed


@dataclass
class ListEntry:
    """An entry of the 重点项目 list or of a 项目支出表, with the project table it was linked to."""

    name: str
    amount: Decimal | None
    line: int
    project: ProjectFigure | None = None
    step: Decimal = Decimal(100)
    listing: str = KEY_PROJECT_LIST  # which list: KEY_PROJECT_LIST | PROJECT_LIST
    unit: str | None = None  # the unit the list prints the project under


@dataclass
class Figures:
    """What the rules look at: one document's printed amounts, tables in document order."""

    document: str
    tables: list[TableFigures] = field(default_factory=list)
    projects: list[ProjectFigure] = field(default_factory=list)
    entries: list[ListEntry] = field(default_factory=list)


# -- findings -------------------------------------------------------------------------------------
@dataclass
class Finding:
    """One check: a printed figure (``expected``) against what the document's other figures give
    (``actual``), with the lines involved."""

    document: str
    check: str
    subject: str
    expected: Decimal
    actual: Decimal
    lines: list[int] = field(default_factory=list)
    tolerance: Decimal = Decimal(0)

    @property
    def diff(self) -> Decimal:
        return self.actual - self.expected

    @property
    def ok(self) -> bool:
        return abs(self.diff) <= self.tolerance

    def describe(self) -> str:
        where = f" (lines {', '.join(map(str, sorted(set(self.lines))))})" if self.lines else ""
        return (f"{self.check}: {self.subject}: computed {_yuan(self.actual)} vs printed {_yuan(self.expected)}"
                f"{'' if self.ok else f', differs by {_yuan(self.diff)}'}{where}")

    def as_dict(self) -> dict:
        return {"document": self.document, "check": self.check, "subject": self.subject, "ok": self.ok,
                "expected": plain(self.expected), "actual": plain(self.actual), "diff": plain(self.diff),
                "tolerance": plain(self.tolerance), "lines": sorted(set(self.lines))}


def plain(v: Decimal) -> str:
    """An amount in 元 as a plain decimal string, the same however it was computed (9928500, 0.5)."""
    s = format(v.normalize(), "f")
    return "0" if s in ("-0", "0") else s


def _yuan(v: Decimal) -> str:
    return f"{v:,.2f} 元"


def _tolerance(terms: int, step: Decimal) -> Decimal:
    """A sum of ``terms`` printed figures against one printed figure: each off by ≤ step / 2."""
    return (terms + 1) * step / 2


# -- the rules ------------------------------------------------------------------------------------
def run_rules(fig: Figures) -> list[Finding]:
    """Every 勾稽 check of one document, in a stable order."""
    out: list[Finding] = []
    for t in fig.tables:
        out.extend(_table_total(fig.document, t))
        out.extend(_hierarchy(fig.document, t))
        out.extend(_line_columns(fig.document, t))
        out.extend(_balance(fig.document, t))
    out.extend(_same_figure(fig))
    out.extend(_projects(fig))
    return out


def _table_total(doc: str, t: TableFigures) -> list[Finding]:
    """表合计 = Σ of the most general level printed (类, or 款/项 when a table lists only those)."""
    lines = t.coded()
    if t.total is None or not lines:
        return []
    top_len = min(len(ln.code) for ln in lines.values())
    tops = [ln for ln in lines.values() if len(ln.code) == top_len]
    return [Finding(doc, f"表合计 = Σ{LEVEL.get(top_len, '科目')}", t.title, t.total, sum(ln.amount for ln in tops),
                    [ln.line for ln in tops], _tolerance(len(tops), t.step))]


def _hierarchy(doc: str, t: TableFigures) -> list[Finding]:
    """类 = Σ款, 款 = Σ项 within a table, for every parent printed with children."""
    lines = t.coded()
    out = []
    for code, parent in sorted(lines.items()):
        kids = [ln for ln in lines.values() if ln.under(parent)]
        if kids:
            n = len(parent.code)
            level = f"{LEVEL.get(n, '科目')} = Σ{LEVEL.get(n + 2, '科目')}"
            out.append(Finding(doc, level, f"{t.title} [{code}]", parent.amount, sum(k.amount for k in kids),
                               [parent.line] + [k.line for k in kids], _tolerance(len(kids), t.step)))
    return out


STAFF = ("人员经费", "公用经费")
SUBTOTALS = ("小计", "合计")


@dataclass
class _Row:
    """One coded line's amount columns by heading key, in printed order."""

    keys: list[str]
    amounts: list[Decimal]

    def first(self, key: str) -> int | None:
        return self.keys.index(key) if key in self.keys else None

    def value(self, key: str) -> Decimal:
        i = self.first(key)
        return self.amounts[i] if i is not None else Decimal(0)

    def subtotal_before(self, i: int | None) -> int | None:
        """The 小计/合计 column printed just before column ``i`` (the figure its group sums to)."""
        return i - 1 if i is not None and i > 0 and self.keys[i - 1] in SUBTOTALS else None


def _basic_column(row: _Row, has_projects: bool) -> int | None:
    """Where a line prints its 基本支出 figure: a 基本支出 column, else the subtotal just before the
    first staff column (the 基本支出 group's 小计 — or the 合计 of a table without 项目支出, whose
    合计 is all basic spending)."""
    i = row.first("基本支出")
    if i is not None:
        return i
    staff = [j for j in map(row.first, STAFF) if j is not None]
    j = row.subtotal_before(min(staff)) if staff else None
    if j is not None and (row.keys[j] == "小计" or not has_projects):
        return j
    return None


def _column_keys(headings: list[str]) -> list[str]:
    """Matching keys of a line's column headings; a group heading whose own column has no sub-heading
    (支出预算 above 合计 | 基本支出 | 项目支出 where only the parts were composed) is the group's 合计."""
    groups = {h.split("›")[0] for h in headings if "›" in h}
    return ["合计" if "›" not in h and h in groups else label_key(h) for h in headings]


def _line_columns(doc: str, t: TableFigures) -> list[Finding]:
    """On each line, when the table names the columns:

    - 基本支出 = 人员经费 + 公用经费, where the line prints a 基本支出 figure (:func:`_basic_column`);
    - the subtotal printed before the 基本支出 figure (合计, or the 小计 of a 当年预算 group) =
      基本支出 (or 人员经费 + 公用经费 when no 基本支出 figure is printed) + 项目支出 (+ 事业单位经营支出 …).

    A column is named when some line of the table prints an amount under it; an empty cell is 0; a
    heading printed twice (当年预算 and 上年结转 groups) counts at its first printing."""
    headings = {label_key(h) for ln in t.lines for h, _ in ln.columns}
    has_projects = "项目支出" in headings
    staff = all(h in headings for h in STAFF)
    if not (staff or ("基本支出" in headings and has_projects)):
        return []
    extras = [p for p in EXTRA_SPENDING_PARTS if p in headings]
    out = []
    for code, ln in sorted(t.coded().items()):
        if any(UNNAMED_COLUMN.fullmatch(h) for h, _ in ln.columns):
            continue  # the reader could not tell which column an amount is in
        row = _Row(_column_keys([h for h, _ in ln.columns]), [a for _, a in ln.columns])
        subject = f"{t.title} [{code}]"
        b = _basic_column(row, has_projects)
        staff_sum = sum((row.value(h) for h in STAFF), Decimal(0))
        if staff and b is not None:
            out.append(Finding(doc, "基本支出 = 人员经费 + 公用经费", subject, row.amounts[b], staff_sum, [ln.line],
                               _tolerance(2, t.step)))
        if not has_projects:
            continue
        if b is not None:
            basic, total_at, parts = row.amounts[b], row.subtotal_before(b), "基本支出"
        elif staff:
            present = [j for j in map(row.first, STAFF) if j is not None]
            basic, total_at, parts = staff_sum, row.subtotal_before(min(present)) if present else None, "人员经费 + 公用经费"
        else:
            continue
        if total_at is None:
            continue
        rest = [row.value("项目支出")] + [row.value(p) for p in extras]
        out.append(Finding(doc, f"{row.keys[total_at]} = {parts} + 项目支出" + (" + …" if extras else ""), subject,
                           row.amounts[total_at], basic + sum(rest, Decimal(0)), [ln.line],
                           _tolerance(1 + len(rest) + (parts != "基本支出"), t.step)))
    return out


INCOME_GRAND = ("收入总计", "收入合计")
SPENDING_GRAND = ("支出总计", "支出合计")
#: the subtotal of the year's income / spending, printed below its items; (一、本年收入 printed above its
#: items heads a group instead: what follows it are its parts, not additions)
INCOME_THIS_YEAR = ("本年收入合计",)
SPENDING_THIS_YEAR = ("本年支出合计",)


def _side(label: str) -> str:
    """Which side of a 收支总表 a row is on, by its words: 支出 rows and carry-overs to next year
    (结转下年, 年末结转) are spending; the others (收入, 上年结转结余, 用事业基金弥补收支差额) income."""
    k = label_key(label)
    if "下年" in k or "年末" in k or ("支出" in k and "弥补收支" not in k):
        return "spending"
    return "income"


def _index(keys: list[str], labels: tuple[str, ...]) -> int | None:
    for want in labels:
        if want in keys:
            return keys.index(want)
    return None


def _balance(doc: str, t: TableFigures) -> list[Finding]:
    """收支总表: 收入总计 = 支出总计; 收入总计 = 本年收入合计 + the income rows printed between them
    (上年结转结余, 上级补助收入 … as the template has them), and 支出总计 = 本年支出合计 + the spending
    rows between them (结转下年 …). Rows are in reading order, both sides interleaved."""
    rows = t.summary
    keys = [label_key(r.label) for r in rows]
    gi, gs = _index(keys, INCOME_GRAND), _index(keys, SPENDING_GRAND)
    out = []
    if gi is not None and gs is not None:
        out.append(Finding(doc, "收入总计 = 支出总计", t.title, rows[gi].amount, rows[gs].amount,
                           [rows[gi].line, rows[gs].line], t.step))
    yi, ys = _index(keys, INCOME_THIS_YEAR), _index(keys, SPENDING_THIS_YEAR)
    for side, year, grand, name in (("income", yi, gi, "收入总计 = 本年收入合计 + 上年结转等"),
                                    ("spending", ys, gs, "支出总计 = 本年支出合计 + 结转下年等")):
        if year is None or grand is None or year > grand:
            continue
        adds = [rows[j] for j in range(year + 1, grand) if j not in (yi, ys, gi, gs) and _side(rows[j].label) == side]
        out.append(Finding(doc, name, t.title, rows[grand].amount, rows[year].amount + sum(r.amount for r in adds),
                           [rows[year].line, rows[grand].line], _tolerance(1 + len(adds), t.step)))
    return out


def _is(t: TableFigures, kind: str) -> bool:
    return t.kind == kind


def _summary_before(fig: Figures, t: TableFigures, kind: str) -> TableFigures | None:
    """The summary table of ``kind`` that a table belongs with: the nearest one printed before it
    (a 部门预算 repeats the set of tables per unit), else the first."""
    cands = [s for s in fig.tables if _is(s, kind) and s.summary]
    before = [s for s in cands if s.line <= t.line]
    return before[-1] if before else (cands[0] if cands else None)


def _pair(doc: str, check: str, s: TableFigures, row: SummaryRow, t: TableFigures) -> Finding:
    return Finding(doc, check, f"{s.title} {row.label} vs {t.title}", row.amount, t.total, [row.line, t.line],
                   (s.step + t.step) / 2)


def _same_figure(fig: Figures) -> list[Finding]:
    """The same figure in two tables agrees: 收支总表 本年支出合计 = 支出总表 合计, 收入总计 = 收入总表 合计;
    财政拨款收支总表 本年支出合计 = 财政拨款支出表 合计; its 一般公共预算 (政府性基金, 国有资本经营) figure
    = that fund's expenditure table's 合计."""
    out = []
    for t in fig.tables:
        if t.total is None:
            continue
        if _is(t, EXPENDITURE) and t.fund == "all" and t.etype == "all":
            s = _summary_before(fig, t, SUMMARY)
            row = s.row("本年支出合计", "支出总计", "支出合计") if s else None
            if row is not None:
                out.append(_pair(fig.document, "收支总表 = 支出总表 合计", s, row, t))
        elif _is(t, INCOME):
            s = _summary_before(fig, t, SUMMARY)
            # the 收入总表 has the 上年结转结余 column: its 合计 is the 收入总计
            row = s.row("收入总计", "收入合计", "本年收入合计") if s else None
            if row is not None:
                out.append(_pair(fig.document, "收支总表 = 收入总表 合计", s, row, t))
        elif _is(t, FISCAL_EXPENDITURE) and t.etype == "all":
            s = _summary_before(fig, t, FISCAL_SUMMARY)
            row = s.row("本年支出合计", "支出总计", "支出合计") if s else None
            if row is not None:
                out.append(_pair(fig.document, "财政拨款收支总表 = 财政拨款支出表 合计", s, row, t))
        elif t.kind in FUND_TABLES and t.etype == "all" and FUND_SCOPES.get(t.fund, FUND_TABLES[t.kind]) == FUND_TABLES[t.kind]:
            fund = FUND_TABLES[t.kind]
            s = _summary_before(fig, t, FISCAL_SUMMARY)
            row = s.row_starting(fund) if s else None
            if row is not None:
                out.append(_pair(fig.document, f"财政拨款收支总表 {fund} = {fund}支出表 合计", s, row, t))
    return out


def _list_row(rows: list[ListEntry]) -> tuple[ListEntry, int]:
    """The row of a list that a project's 绩效目标表 stands for, and among how many: a list may print
    one project name under several units (本级 and its subordinate units each run 实施公车统管费用);
    the row of the project's own unit when the list says, else the one whose amount is closest."""
    p = rows[0].project
    same_unit = [e for e in rows if e.unit and p.unit and key(e.unit) == key(p.unit)]
    cands = same_unit or rows
    return min(cands, key=lambda e: (abs(e.amount - p.amount), e.line)), len(cands)


def _projects(fig: Figures) -> list[Finding]:
    """A project's amount agrees between the 重点项目 list or the 项目支出表 and its 绩效目标表; every
    重点项目 has a 绩效目标表 when the document prints any; the projects' amounts summed by 项目类型
    agree with the category rows of the project-expenditure table (表12)."""
    out = []
    doc = fig.document
    linked: dict[tuple[str, int], list[ListEntry]] = {}
    for e in fig.entries:
        p = e.project
        if p is None:
            if fig.projects and e.listing == KEY_PROJECT_LIST:
                out.append(Finding(doc, f"{e.listing} has a 绩效目标表", e.name, Decimal(1), Decimal(0), [e.line]))
        elif e.amount is not None and p.amount is not None:
            linked.setdefault((e.listing, id(p)), []).append(e)
    for (listing, _), rows in linked.items():
        e, n = _list_row(rows)
        p = e.project
        subject = f"{e.name} / {p.name}" + (f" (the closest of {n} rows of that name)" if n > 1 else "")
        out.append(Finding(doc, f"{listing} = 绩效目标表", subject, e.amount, p.amount, [e.line, p.line],
                           (e.step + p.step) / 2))
    by_type: dict[str, list[ProjectFigure]] = {}
    for p in fig.projects:
        if p.project_type and p.amount is not None:
            by_type.setdefault(label_key(p.project_type), []).append(p)
    if not by_type:
        return out
    for t in fig.tables:
        for r in t.summary:
            ps = by_type.get(label_key(r.label))
            if ps:
                out.append(Finding(doc, "项目类型合计 = 项目支出表", f"{r.label} ({t.title})", r.amount,
                                   sum(p.amount for p in ps), [r.line] + [p.line for p in ps],
                                   _tolerance(len(ps), max([t.step] + [p.step for p in ps]))))
    return out


# -- figures of a parsed document -----------------------------------------------------------------
def document_label(doc) -> str:
    """How a document is named in findings: as its graph's label (unit, year, kind), else its file."""
    if not getattr(doc, "unit_name", ""):
        return str(doc.path).rsplit("/", 1)[-1]
    year = f"{doc.year}年" if doc.year else ""
    return f"{doc.unit_name} {year}{doc.kind}"


def _money_step(m) -> Decimal | None:
    return step_of(m.printed, m.unit) if m is not None else None


def _table_step(amounts: list, unit: str) -> Decimal:
    steps = [s for s in map(_money_step, amounts) if s is not None]
    return max(steps) if steps else step_of("0." + "0" * DEFAULT_DECIMALS, unit)


def table_kind(kind: str | None, flow: str, fund: str, etype: str, has_summary: bool) -> str | None:
    """The table's kind as classified or, for a table not classified (an older parser's records,
    ``UnknownTable``), as its dimensions say."""
    if kind and kind != "UnknownTable":
        return kind
    if has_summary:
        return FISCAL_SUMMARY if fund == "fiscal-appropriation" else SUMMARY if fund == "all" else None
    if flow == "income":
        return INCOME
    if etype != "all":
        return None
    if fund == "all":
        return EXPENDITURE
    if fund == "fiscal-appropriation":
        return FISCAL_EXPENDITURE
    return next((k for k, name in FUND_TABLES.items() if FUND_SCOPES.get(fund) == name), None)


def table_figures(t) -> TableFigures:
    """A parsed ``BudgetTable`` as figures (lines without an amount are not figures)."""
    lines = [ln for ln in t.lines if ln.total is not None]
    # the rows as printed (labels with their full-width brackets), as the mapping stores them
    rows = getattr(t, "summary_rows", None)
    summary = [(r.label, r.money) for r in rows] if rows else list(getattr(t, "summary_totals", {}).items())
    kind = table_kind(getattr(t, "kind", None), t.flow, t.fund_scope, t.expenditure_type, bool(summary))
    return TableFigures(
        title=t.title or "（无标题预算表）", kind=kind, flow=t.flow, fund=t.fund_scope,
        etype=t.expenditure_type, line=t.span.start, total=t.total.yuan if t.total is not None else None,
        lines=[CodedLine(ln.code, ln.total.yuan, ln.span.start, [(c.heading, c.money.yuan) for c in ln.columns],
                         getattr(ln, "cross_code", None))
               for ln in lines],
        summary=[SummaryRow(label, m.yuan, t.span.start) for label, m in summary],
        step=_table_step([ln.total for ln in lines] + [m for _, m in summary], t.unit))


def document_figures(doc) -> Figures:
    """A parsed document's figures; list entries linked to project tables as the mapping links them."""
    from .key_projects import link

    projects = {id(p): ProjectFigure(p.name, p.amount.yuan if p.amount else None, p.span.start, p.project_type,
                                     _money_step(p.amount) or Decimal(1), p.implementing_unit)
                for p in doc.projects}
    entries = []
    for listing, rows in ((KEY_PROJECT_LIST, getattr(doc, "key_projects", [])),
                          (PROJECT_LIST, getattr(doc, "project_budgets", []))):
        for e in rows:
            found = link(e, doc.projects)
            entries.append(ListEntry(e.name, e.amount.yuan if e.amount else None, e.span.start,
                                     projects[id(found[0])] if found else None, _money_step(e.amount) or Decimal(100),
                                     listing, getattr(e, "implementing_unit", None)))
    return Figures(document_label(doc), [table_figures(t) for t in doc.budget_tables], list(projects.values()), entries)


def check_document(doc) -> list[Finding]:
    """The 勾稽 checks of a parsed document (also of one that would be refused)."""
    return run_rules(document_figures(doc))
