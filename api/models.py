"""Typed response bodies of the JSON API, for OpenAPI and for checking what the views return.

The views build plain dicts; routes declare these models as ``response_model`` with
``response_model_exclude_unset=True``, so FastAPI validates each answer against its model and writes
exactly the keys the view set (a key a view leaves out stays out, it does not become ``null``).
Every model allows extra keys: a field added to a view's answer is served before its model learns
about it (the API adds fields, it never removes them: see CONTRACT.md).
"""
from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """A response object: the declared fields, typed, plus any other key the view adds."""

    model_config = ConfigDict(extra="allow")


# -- search and comparable items --------------------------------------------------------------

class Scores(Open):
    dense: float | None = Field(None, description="语义（e5 向量）得分，按字段标准化；仅按条件浏览时为 null")
    lexical: float = Field(0.0, description="词面（jieba BM25）得分")
    fused: float = Field(0.0, description="融合得分（= score）")


class Match(Open):
    field: str = Field(description="命中的字段：name、goal、indicator、clause、content …")
    text: str = Field(description="命中的文本")


class ItemRef(Open):
    iri: str
    name: str | None = None


class Reason(Open):
    """Why an item is comparable (``/api/similar``)."""

    summary: str = Field(description="可比原因，如“项目名称相同；金额为本项目的 1.06 倍”")
    shared_indicators: list[list[str]] | None = Field(None, description="共同指标：[本项目的指标, 该项目的指标] 对")
    amount_ratio: float | None = Field(None, description="金额比（该项目 / 本项目）")
    name_similarity: float | None = None
    goal_similarity: float | None = None
    similarity: float | None = Field(None, description="指标或任务：文本相似度")
    meaning_z: float | None = Field(None, description="项目：名称、目标与指标的整体相似度高于平均的标准差数（两方向取小）；"
                                                      "低于阈值的项目不列为可比项目，金额只用于排序和说明")
    summary_meaning: bool | None = Field(None, description="名称、目标或指标的相近程度达到说明阈值")


class SearchResult(Open):
    """A result object of ``/api/search`` and ``/api/similar`` (and of ``budgetkg search --json``)."""

    iri: str
    kind: str = Field(description="project 项目、indicator 绩效指标、task 年度重点工作任务、line 预算科目行")
    name: str | None = None
    unit: str | None = Field(None, description="预算单位全称")
    town: str | None = Field(None, description="地区（最具体的一级），如 清溪镇")
    year: int | None = Field(None, description="预算年度")
    amount: float | None = Field(None, description="金额（元）")
    amount_text: str | None = Field(None, description="金额（元）的十进制原值")
    score: float = Field(description="得分，越高越相关")
    scores: Scores | None = None
    regions: list[str] = Field(default_factory=list, description="地区链，由具体到上级")
    document: str | None = Field(None, description="来源文件")
    lines: list[int] | None = Field(None, description="来源文件中的行号 [起, 止]")
    project: ItemRef | None = Field(None, description="指标：所属项目（或部门整体目标）")
    match: Match | None = None
    type: str | None = Field(None, description="项目类型")
    level1: str | None = Field(None, description="指标：一级指标")
    level2: str | None = Field(None, description="指标：二级指标")
    annual_target: str | None = Field(None, description="指标：年度指标值")
    period_target: str | None = Field(None, description="指标：实施周期指标值")
    reason: Reason | None = Field(None, description="仅 /api/similar：可比原因")
    code: str | None = Field(None, description="预算科目行：科目编码，如 2080104")
    scheme: str | None = Field(None, description="预算科目行：functional 功能分类 或 economic 经济分类")
    level: str | None = Field(None, description="预算科目行：类、款 或 项")
    flow: str | None = Field(None, description="预算科目行：income 收入 或 expenditure 支出")
    table: ItemRef | None = Field(None, description="预算科目行：所在的预算表")


class AmountRange(Open):
    min: int | float | None = None
    max: int | float | None = None
    min_inclusive: bool
    max_inclusive: bool


class CodeRef(Open):
    iri: str
    notation: str | None = None
    scheme: str | None = None


class QuestionFilter(Open):
    """A filter read from the question."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    kind: str = Field(description="town / region 地区、unit 单位、year 年度、amount 金额、kind 类型、code 科目")
    value: Union[AmountRange, list[CodeRef], list[int], str, None] = Field(
        description="地区：名称；单位：IRI；年度：[起, 止]；金额：{min, max, min_inclusive, max_inclusive}（元）；"
                    "类型：project / indicator / task；科目：[{iri, notation, scheme}]")
    label: str = Field(description="条件的说明，如“≤ 500,000 元”")
    from_: str = Field(alias="from", description="问题中对应的原词")
    covers: list[str] | None = Field(None, description="地区：所涵盖的地区")
    ambiguous: bool | None = Field(None, description="该词也出现在项目名称中：没有结果时改作检索词")


class Interpretation(Open):
    filters: list[QuestionFilter]
    text: str = Field(description="去掉条件后用于排序的检索词")
    notes: list[str] = Field(default_factory=list, description="说明（约数、相对年份、取消的条件 …）")


class SearchResponse(Open):
    results: list[SearchResult]
    match: Literal["strong", "weak", "none"] | None = Field(
        None, description="最佳结果与问题的接近程度：strong 有明确相关的内容、weak 只有部分相关、none 图谱中没有接近的内容"
                          "（结果仅按相似度排列，并非答案）。由语义相似度与词语覆盖率经校准得出；仅按条件浏览时没有")
    match_probability: float | None = Field(None, description="校准后“图谱中有相关内容”的概率（0–1）；问题全部被识别为条件时没有")
    notes: list[str] | None = Field(None, description="未识别问题（parse=false）时的说明，如所选类型没有金额")
    interpretation: Interpretation | None = Field(None, description="问题中识别出的条件（parse=false 时没有）")
    sparql_candidates: int | None = Field(None, description="sparql 过滤查询返回的 IRI 数")


class SimilarResponse(Open):
    results: list[SearchResult]


class SparqlStatus(Open):
    workers: int
    timeout: float
    result_cap: int


class QueryBatches(Open):
    calls: int = Field(description="查询向量的模型调用次数")
    queries: int = Field(description="其中嵌入的查询数（queries / calls = 平均批量）")
    packed: bool = Field(False, description="不同长度的查询是否在一次模型计算中完成")


class IndexHealth(Open):
    state: str = Field(description="fresh：索引覆盖图数据库中的全部文档（内容一致）；stale：图数据库在索引之后有变动（重建：`budgetkg reindex`）")
    indexed: int = Field(description="索引覆盖的文档数")
    stored: int = Field(description="图数据库中的文档数")
    missing: int = Field(0, description="已存储但未编入索引的文档数")
    changed: int = Field(0, description="编入索引后内容有变的文档数")
    removed: int = Field(0, description="已编入索引但不再存储的文档数")
    reason: str | None = None


class Health(Open):
    status: str
    documents: int
    items: int
    model: str | None = None
    index_built: str | None = None
    index: IndexHealth | None = None
    sparql: SparqlStatus
    query_batches: QueryBatches | None = None


# -- resources --------------------------------------------------------------------------------

class RegionRef(Open):
    iri: str
    label: str | None = None
    level: str | None = None


class UnitRef(Open):
    iri: str
    id: str | None = None
    name: str | None = None
    town: str | None = None
    regions: list[str] = Field(default_factory=list)
    region: RegionRef | None = None


class DocumentRef(Open):
    iri: str
    title: str | None = None
    label: str | None = None
    file: str | None = None
    kind: str | None = Field(None, description="文件类型，如 部门预算")
    year: int | None = None
    lines: list[int] | None = None


class IndicatorSummary(Open):
    iri: str
    id: str | None = None
    name: str | None = None
    level1: str | None = None
    level2: str | None = None
    annual_target: str | None = None
    period_target: str | None = None
    order: int | None = None


class Period(Open):
    start: int | None = None
    end: int | None = None
    open_ended: bool | None = None
    text: str | None = None


class Funds(Open):
    total: float | None = None
    current_year: float | None = None
    carry_over: float | None = None
    other: float | None = None


class Goals(Open):
    overall: str | None = None
    annual: str | None = None


class Listing(Open):
    iri: str
    kind: str | None = None
    name: str | None = None
    match_note: str | None = None
    amount: float | None = None


class Project(Open):
    iri: str
    id: str | None = None
    kind: str = "project"
    name: str | None = None
    unit: UnitRef | None = None
    town: str | None = None
    year: int | None = None
    amount: float | None = Field(None, description="金额（元）")
    amount_text: str | None = None
    amount_printed: str | None = Field(None, description="文件中印出的金额")
    amount_unit: str | None = Field(None, description="文件中金额的单位（元、万元）")
    type: str | None = None
    level: str | None = None
    competent_department: str | None = None
    implementing_unit: str | None = None
    period: Period | None = None
    funds: Funds | None = None
    goals: Goals | None = None
    summary: str | None = None
    basis: str | None = None
    indicators: list[IndicatorSummary] = Field(default_factory=list)
    document: DocumentRef | None = None
    listed_as: list[Listing] = Field(default_factory=list, description="重点项目清单等处对应的条目")


class TargetValue(Open):
    comparator: str | None = None
    min: float | None = None
    max: float | None = None
    value: float | None = None
    unit: str | None = None
    raw: str | None = None


class OwnerRef(Open):
    iri: str
    id: str | None = None
    name: str | None = None
    kind: str | None = Field(None, description="project 项目 或 department-target 部门整体目标")


class Indicator(Open):
    iri: str
    id: str | None = None
    kind: str = "indicator"
    name: str | None = None
    level1: str | None = None
    level2: str | None = None
    annual_target: str | None = None
    period_target: str | None = None
    annual_value: TargetValue | None = None
    period_value: TargetValue | None = None
    order: int | None = None
    project: OwnerRef | None = None
    unit: UnitRef | None = None
    town: str | None = None
    year: int | None = None
    document: DocumentRef | None = None


class DepartmentTarget(Open):
    iri: str
    name: str | None = None
    overall_goal: str | None = None
    indicators: list[IndicatorSummary] = Field(default_factory=list)


class Task(Open):
    iri: str
    id: str | None = None
    kind: str = "task"
    name: str | None = None
    content: str | None = None
    expected_outcome: str | None = None
    optional: bool | None = None
    amount: float | None = None
    amount_text: str | None = None
    amount_printed: str | None = None
    amount_unit: str | None = None
    unit: UnitRef | None = None
    town: str | None = None
    year: int | None = None
    department_target: DepartmentTarget | None = None
    document: DocumentRef | None = None


class UnitCounts(Open):
    documents: int = 0
    projects: int = 0
    indicators: int = 0
    tasks: int = 0
    budget_lines: int = 0


class UnitTotals(Open):
    projects_amount: float = 0.0
    tasks_amount: float = 0.0


class UnitSummary(Open):
    iri: str
    id: str | None = None
    name: str | None = None
    town: str | None = None
    regions: list[str] = Field(default_factory=list)
    region: RegionRef | None = None
    years: list[int] = Field(default_factory=list)
    counts: UnitCounts | None = None
    totals: UnitTotals | None = None


class Units(Open):
    units: list[UnitSummary]


class UnitDocument(Open):
    iri: str
    title: str | None = None
    file: str | None = None
    kind: str | None = None
    year: int | None = None


class UnitItem(Open):
    iri: str
    id: str | None = None
    name: str | None = None
    year: int | None = None
    amount: float | None = None


class BudgetTable(Open):
    iri: str
    number: str | None = None
    title: str | None = None
    year: int | None = None
    flow: str | None = None
    fund_scope: str | None = None
    expenditure_type: str | None = None
    printed_total: float | None = None
    lines: int = 0


class Unit(UnitSummary):
    documents: list[UnitDocument] = Field(default_factory=list)
    projects: list[UnitItem] = Field(default_factory=list)
    tasks: list[UnitItem] = Field(default_factory=list)
    budget_tables: list[BudgetTable] = Field(default_factory=list)


class ConceptRef(Open):
    iri: str
    notation: str | None = None
    label: str | None = None
    level: str | None = None


class UnitName(Open):
    iri: str | None = None
    name: str | None = None


class TableRef(Open):
    iri: str
    number: str | None = None
    title: str | None = None


class BudgetLine(Open):
    iri: str
    amount: float | None = None
    amount_text: str | None = None
    printed_name: str | None = None
    unit: UnitName | None = None
    town: str | None = None
    year: int | None = None
    flow: str | None = None
    fund_scope: str | None = None
    expenditure_type: str | None = None
    table: TableRef | None = None
    document: str | None = None
    lines: list[int | None] | None = None


class UnitAmount(Open):
    unit: UnitName | None = None
    town: str | None = None
    year: int | None = None
    amount: float | None = None


class Code(Open):
    iri: str
    notation: str
    label: str | None = None
    alt_labels: list[str] = Field(default_factory=list)
    scheme: str | None = Field(None, description="functional 支出功能分类、economic 支出经济分类")
    level: str | None = Field(None, description="类、款、项")
    parents: list[ConceptRef] = Field(default_factory=list)
    children: list[ConceptRef] = Field(default_factory=list)
    by_unit: list[UnitAmount] = Field(default_factory=list)
    line_count: int = 0
    lines: list[BudgetLine] = Field(default_factory=list)
    lines_truncated: bool = False


# -- 历年对比 ---------------------------------------------------------------------------------

Money = Field(None, description="元, exact: a decimal string (\"432000\", \"96282213.44\")")


class YearTotal(Open):
    year: int
    amount: str | None = Money
    change: str | None = Field(None, description="增减 from the nearest earlier year shown, 元 (decimal string)")


class ProjectInYear(YearTotal):
    iri: str | None = Field(None, description="the project as printed that year; absent when it was not")
    id: str | None = None
    name: str | None = None


class TargetInYear(Open):
    year: int
    target: str | None = Field(None, description="年度指标值 as printed that year; null when not printed")


class IndicatorYears(Open):
    level1: str
    level2: str
    name: str = Field(..., description="三级指标, the same printed text every year")
    targets: list[TargetInYear]


class ProjectYears(Open):
    name: str = Field(..., description="the name printed in the latest year")
    match_rule: str | None = Field(None, description="bkg:matchRule of the year links: \"exact name\" or "
                                                     "\"name after normalisation\"; null for a project of one year")
    years: list[ProjectInYear]
    indicators: list[IndicatorYears]


class ComparedUnit(Open):
    iri: str
    id: str | None = None
    name: str
    town: str | None = None


class YearComparison(Open):
    unit: ComparedUnit
    years: list[int]
    totals: list[YearTotal] = Field(..., description="支出总计 per year (detail rows of the 支出总表, each yuan once)")
    projects: list[ProjectYears]
