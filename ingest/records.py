"""Typed records read from a document, before they become RDF.

Every record keeps the text as printed beside what was parsed from it, and the 1-based line span
it came from, so that the graph can always point back to the source.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Span:
    """Lines ``start``..``end`` (1-based, inclusive) of the source text."""

    start: int
    end: int

    def merge(self, other: "Span | None") -> "Span":
        if other is None:
            return self
        return Span(min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True)
class Money:
    """An exact amount in 元 with the string and unit as printed (金额)."""

    yuan: Decimal
    printed: str
    unit: str  # "元" or "万元" — the unit of ``printed``


@dataclass(frozen=True)
class Target:
    """A parsed indicator target (指标值): ``≥95%`` → comparator ``≥``, low 95, unit ``%``."""

    raw: str
    comparator: str | None = None  # ≥ ≤ > < = ~
    low: Decimal | None = None
    high: Decimal | None = None
    unit: str | None = None


@dataclass(frozen=True)
class LevelRef:
    """An indicator level as read: a standard concept of the SKOS level scheme, or a name the
    document prints that the standard does not know (``concept`` None)."""

    label: str
    depth: int  # 1 = 一级指标, 2 = 二级指标
    concept: str | None = None  # IRI of the standard concept
    parent: str | None = None  # IRI of the standard 一级 a standard 二级 belongs to


@dataclass
class Indicator:
    """A 三级指标 row with its 一级/二级 levels and targets (raw strings kept in Target.raw).

    The other columns a template may print beside the target are kept as printed: 指标性质 (``≥``),
    计量单位 / 度量单位, 分值, 权重, 评（扣）分标准, 指标解释, 指标方向性; a 绩效自评表 adds 实际完成值,
    得分 and 偏差原因. ``annual`` is the target composed of 指标性质 + 指标值 + 计量单位 when the
    template prints them in separate columns (``≥`` ``95`` ``%`` → ``≥95%``).
    """

    text: str
    level1: LevelRef
    level2: LevelRef
    annual: Target | None
    period: Target | None
    span: Span
    order: int = 0
    nature: str | None = None  # 指标性质 / 指标符号 as printed (≥ ≤ = 定性 …)
    measure_unit: str | None = None  # 计量单位 / 度量单位 as printed
    score: str | None = None  # 分值 as printed
    weight: str | None = None  # 权重 as printed
    standard: str | None = None  # 评（扣）分标准
    explanation: str | None = None  # 指标解释 / 指标说明
    direction: str | None = None  # 指标方向性 (正向指标 / 反向指标)
    level1_score: str | None = None  # a score printed with the 一级 name: 成本指标(0-20)分 → "(0-20)分"
    actual: Target | None = None  # 实际完成值 (绩效自评表)
    self_score: str | None = None  # 得分 / 自评得分 (绩效自评表)
    deviation: str | None = None  # 偏差原因分析及改进措施 (绩效自评表)


@dataclass
class ProjectTargetTable:
    """项目绩效目标表 / 项目支出绩效目标表 / 财政项目支出绩效目标申报表: one project."""

    name: str
    span: Span
    amount: Money | None = None
    amount_year: int | None = None
    total_funds: Money | None = None
    current_year_appropriation: Money | None = None
    carry_over: Money | None = None
    other_funds: Money | None = None
    project_type: str | None = None
    project_level: str | None = None
    competent_department: str | None = None
    implementing_unit: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    basis: str | None = None
    summary: str | None = None
    overall_goal: str | None = None
    annual_goal: str | None = None
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unit_code: str | None = None  # the implementing unit's code printed before its name (820001-…, 301007_…)


@dataclass
class KeyTask:
    """年度重点工作任务: a task of a department-wide target table."""

    name: str
    span: Span
    content: str | None = None
    amount: Money | None = None
    outcome: str | None = None
    optional: bool = False


@dataclass
class DepartmentTargetTable:
    """部门整体支出绩效目标表 / 部门整体预算绩效目标申报表."""

    span: Span
    unit_name: str | None = None
    year: int | None = None
    staff_count: int | None = None
    basic_expenditure: Money | None = None
    project_expenditure: Money | None = None
    overall_goal: str | None = None
    tasks: list[KeyTask] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: roles of a column's amounts (决算 tables print budget and actual side by side)
BUDGET, ADJUSTED, ACTUAL = "budget", "adjusted", "actual"


@dataclass
class SelfEvaluation:
    """绩效自评表: a 项目绩效自评表 or 部门整体绩效自评表 — what was planned beside what was achieved.

    ``subject`` is ``project`` or ``department``; ``name`` the project (项目名称) or the 专项名称 /
    unit the table evaluates. Money: 年初预算数 (``budget``), 全年预算数 / 调整后 (``adjusted``),
    全年执行数 / 拨付 (``executed``), 执行率 as printed. Indicators carry 年度指标值 (``annual``)
    beside 实际完成值 (``actual``), 分值, 得分 and 偏差原因.
    """

    subject: str  # project | department
    name: str
    span: Span
    year: int | None = None
    unit_name: str | None = None
    competent_department: str | None = None
    implementing_unit: str | None = None
    budget: Money | None = None  # 年初预算数 / 年初部门预算安排金额
    adjustment: Money | None = None  # 年中调整金额
    adjusted: Money | None = None  # 全年预算数 / 调整后预算
    executed: Money | None = None  # 全年执行数 / 年度拨付金额
    execution_rate: str | None = None  # 执行率 / 支出实现率 as printed
    budget_score: str | None = None  # 分值 of the 预算执行 part
    budget_self_score: str | None = None  # 得分 of the 预算执行 part
    planned_goal: str | None = None  # 年度总体目标: 预期目标
    achieved_goal: str | None = None  # 年度总体目标: 实际完成情况
    total_score: str | None = None  # 总分 as printed
    grade: str | None = None  # 评价等级 / 自评等级
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnAmount:
    """One amount of a line, under its column's heading as printed; a heading printed over several
    header rows is composed top-down (``基本支出›人员经费``)."""

    heading: str
    money: Money
    #: budget (预算数 / 年初预算数), adjusted (全年预算数 / 调整预算数) or actual (决算数 / 执行数)
    role: str = BUDGET


@dataclass
class BudgetLine:
    """One line of a budget table keyed by a classification code (科目编码)."""

    code: str
    name: str | None  # as printed; None when the table prints the code alone
    scheme: str  # "functional" | "economic"
    total: Money | None
    columns: list[ColumnAmount]
    span: Span
    #: the code was not printed on this line: resolved from the subject's name, printed with its code
    #: elsewhere in the same document
    code_inferred: bool = False
    #: a second code printed on the same row for the same amount: the 政府预算支出经济分类 (5xx) code
    #: beside the 部门预算支出经济分类 (3xx) one
    cross_code: str | None = None
    cross_name: str | None = None


@dataclass
class SummaryRow:
    """A row of a summary table (收支总表 …) without a code: label → amount, with the column group it
    was printed in (收入 / 支出›功能分类 / 支出›支出用途)."""

    label: str
    money: Money
    group: str
    span: Span
    #: every amount of the row under its heading (a row whose code :func:`infer_codes` resolves
    #: becomes a budget line with them)
    columns: list[ColumnAmount] = field(default_factory=list, repr=False, compare=False)


@dataclass
class BudgetTable:
    """A budget table (表1–表12) with its coded lines and printed total row (合计)."""

    title: str
    number: str | None
    unit: str  # 元 or 万元
    flow: str  # expenditure | income
    fund_scope: str
    expenditure_type: str
    headings: list[str]
    lines: list[BudgetLine]
    total: Money | None
    span: Span
    #: the 收支总表 (表1/表4) carry totals only: (label, money) pairs for 勾稽 checks
    summary_totals: dict[str, Money] = field(default_factory=dict)
    kind: str = "UnknownTable"  # bkg:TableKinds concept (see ingest.classify)
    stage: str = "预算"  # 预算 | 决算
    #: every label → amount row in print order (summary_totals keeps the first amount per label)
    summary_rows: list[SummaryRow] = field(default_factory=list)
    #: rows read but not kept, with why (a name no code could be found for, an implausible code …)
    dropped: list[str] = field(default_factory=list)
    #: the reader's view of the columns, to read the table's continuation on the next page
    layout: object = field(default=None, repr=False, compare=False)


@dataclass
class KeyProjectEntry:
    """An entry of the 重点项目 list: name and amount (万元) as printed."""

    name: str
    amount: Money | None
    span: Span
    goal: str | None = None  # 绩效目标 printed beside the amount


@dataclass
class ProjectBudgetEntry:
    """A row of a project list (项目支出表 / 项目支出预算情况表): a project with its amount as printed,
    and what the list prints beside it (项目类别, 功能科目, 单位)."""

    name: str
    amount: Money | None
    span: Span
    category: str | None = None
    code: str | None = None  # 功能分类 code when printed
    implementing_unit: str | None = None
    table: str = ""  # title of the list
    #: the list prints group rows (资金使用单位 / 项目类别) above their projects, and whether they are units
    groups: tuple[bool, bool] = field(default=(False, False), repr=False, compare=False)


@dataclass
class ProjectDescription:
    """A narrative 项目经费情况说明 / 重点项目情况 block."""

    name: str
    span: Span
    summary: str | None = None
    basis: str | None = None
    implementing_unit: str | None = None
    period: str | None = None
    amount: Money | None = None
    goal: str | None = None


@dataclass
class TableReport:
    """How one table of the document was read: what ``budgetkg inspect`` shows, and for a table
    that was skipped, the ``bkg:ParseIssue`` stored with the document."""

    kind: str  # local name of a bkg:TableKinds concept (ProjectTargetTable, GeneralBudgetExpenditure …)
    kind_label: str  # its zh label
    title: str  # as printed ('' when none)
    number: str | None
    stage: str  # 预算 | 决算
    span: Span
    pages: tuple[int, int] | None
    status: str  # read | empty | skipped | not-read
    rows: int = 0  # records read: coded lines, indicators, projects …
    reason: str | None = None  # why skipped / not read, or how it was classified

    @property
    def where(self) -> str:
        pages = ""
        if self.pages:
            pages = f"page {self.pages[0]}" if self.pages[0] == self.pages[1] else f"pages {self.pages[0]}–{self.pages[1]}"
            pages += ", "
        return f"{pages}lines {self.span.start}–{self.span.end}"


@dataclass
class RegionRef:
    """A region chain, most general first: [(name, level, adcode|None), ...]."""

    chain: list[tuple[str, str, str | None]]

    @property
    def leaf(self) -> tuple[str, str, str | None]:
        return self.chain[-1]


@dataclass
class ParsedDocument:
    """Everything read from one document."""

    path: str
    sha256: str
    encoding: str
    kind: str  # 部门预算 | 单位预算 | 绩效目标表
    title: str
    unit_name: str
    region: RegionRef
    year: int | None
    line_count: int
    projects: list[ProjectTargetTable] = field(default_factory=list)
    department_targets: list[DepartmentTargetTable] = field(default_factory=list)
    budget_tables: list[BudgetTable] = field(default_factory=list)
    key_projects: list[KeyProjectEntry] = field(default_factory=list)
    project_budgets: list[ProjectBudgetEntry] = field(default_factory=list)
    descriptions: list[ProjectDescription] = field(default_factory=list)
    self_evaluations: list[SelfEvaluation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[TableReport] = field(default_factory=list)
    pages: int | None = None
    #: why the document cannot be stored (no readable table, no unit …); None when it can
    refusal: str | None = None
    #: where the year was read: title | tables | file name (None when the document states none)
    year_source: str | None = None
    #: whose money the document counts: a bkg:DocumentScopes concept (部门汇总 / 单位本级 / 下属单位), and why
    scope: str | None = None
    scope_basis: str | None = None
    #: the units a department's document says it consists of (预算单位构成, 单位名称 columns), as printed
    listed_units: list[str] = field(default_factory=list)

    @property
    def issues(self) -> list[TableReport]:
        """Tables that were recognised but could not be read (skipped, with a reason)."""
        return [t for t in self.tables if t.status == "skipped"]
