"""What kind of table this is, from its title and its header words together (表种识别).

The national templates (财政部 部门预算公开 tables, 财预〔2021〕101号 performance targets, 部门决算
tables) are printed under many titles: 收支总表 / 收支预算总表 / 收支总体情况表 / 部门收支总表 /
收入支出决算总表 are one kind. A title decides the kind when it names one; the header row decides
when the title is missing, cut at the page edge, or too general (``2026年部门预算表``), and it
vetoes a title that contradicts it (a 项目名称 column does not make a 收支总表 a project table, and
a table without 指标 columns is not a performance-target table). Kinds are the concepts of the SKOS
scheme ``bkg:TableKinds`` (``ontology/table-kinds.ttl``); their local names are the ids used here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .text import key

# -- kinds -----------------------------------------------------------------------------------------
#: reader families: which parser reads a kind
CODED = "coded"  # lines keyed by classification codes (功能/经济分类)
SUMMARY = "summary"  # label → amount rows (收支总表)
PROJECT_LIST = "project-list"  # a list of projects with amounts (项目支出表)
PROJECT_TARGETS = "project-targets"  # one project's 绩效目标表
DEPARTMENT_TARGETS = "department-targets"  # 部门整体支出绩效目标表
SELF_EVALUATION = "self-evaluation"  # 绩效自评表
KEY_PROJECTS = "key-projects"  # the 重点项目 list of a narrative
OTHER = "other"  # known kinds no reader takes (三公 breakdown, 政府采购 …): skipped with a reason


@dataclass(frozen=True)
class TableKind:
    id: str  # local name of the bkg:TableKinds concept
    label: str  # zh label (skos:prefLabel)
    family: str


KINDS: dict[str, TableKind] = {k.id: k for k in [
    TableKind("IncomeExpenditureSummary", "收支总表", SUMMARY),
    TableKind("IncomeTable", "收入总表", CODED),
    TableKind("ExpenditureTable", "支出总表", CODED),
    TableKind("FiscalAppropriationSummary", "财政拨款收支总表", SUMMARY),
    TableKind("FiscalAppropriationExpenditure", "财政拨款支出表", CODED),
    TableKind("GeneralBudgetExpenditure", "一般公共预算支出表", CODED),
    TableKind("BasicExpenditure", "基本支出表", CODED),
    TableKind("EconomicClassificationExpenditure", "支出经济分类表", CODED),
    TableKind("GovernmentFundExpenditure", "政府性基金预算支出表", CODED),
    TableKind("StateCapitalExpenditure", "国有资本经营预算支出表", CODED),
    TableKind("ThreePublicExpenses", "三公经费表", OTHER),
    TableKind("RunningCosts", "机关运行经费表", CODED),  # often by 经济分类 code ([30201]办公费)
    TableKind("ProjectExpenditure", "项目支出表", PROJECT_LIST),
    TableKind("GovernmentProcurement", "政府采购表", OTHER),
    TableKind("PurchasedServices", "政府购买服务表", OTHER),
    TableKind("ProjectTargetTable", "项目绩效目标表", PROJECT_TARGETS),
    TableKind("DepartmentTargetTable", "部门整体支出绩效目标表", DEPARTMENT_TARGETS),
    TableKind("SelfEvaluationTable", "绩效自评表", SELF_EVALUATION),
    TableKind("KeyProjectList", "重点项目表", KEY_PROJECTS),
    TableKind("UnknownTable", "未识别的表", OTHER),
]}

# title patterns on the matching key, most specific first
_TITLE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"自评"), "SelfEvaluationTable"),
    (re.compile(r"整体.{0,6}绩效|^(?!.*项目).*部门.{0,4}绩效目标"), "DepartmentTargetTable"),
    (re.compile(r"绩效目标|绩效指标|绩效表|绩效.{0,4}(申报|审批|审核)表"), "ProjectTargetTable"),
    (re.compile(r"三公"), "ThreePublicExpenses"),
    (re.compile(r"政府采购"), "GovernmentProcurement"),
    (re.compile(r"购买服务"), "PurchasedServices"),
    (re.compile(r"机关运行经费|运行经费"), "RunningCosts"),
    (re.compile(r"重点项目"), "KeyProjectList"),
    (re.compile(r"财政拨款.{0,4}收(入)?支(出)?.{0,6}总"), "FiscalAppropriationSummary"),
    (re.compile(r"收(入)?支(出)?.{0,8}(总|情况表|总体)"), "IncomeExpenditureSummary"),
    (re.compile(r"政府性基金"), "GovernmentFundExpenditure"),
    (re.compile(r"国有资本经营"), "StateCapitalExpenditure"),
    (re.compile(r"项目支出.{0,8}(经济|功能)(分类|科目)"), "EconomicClassificationExpenditure"),
    (re.compile(r"项目支出|项目(预算|经费).{0,4}表|项目表"), "ProjectExpenditure"),
    (re.compile(r"基本支出"), "BasicExpenditure"),
    (re.compile(r"经济分类|经济科目"), "EconomicClassificationExpenditure"),
    (re.compile(r"一般公共预算.{0,8}支出"), "GeneralBudgetExpenditure"),
    (re.compile(r"财政拨款.{0,8}支出"), "FiscalAppropriationExpenditure"),
    (re.compile(r"收入"), "IncomeTable"),
    (re.compile(r"支出"), "ExpenditureTable"),
]

# header words
_INDICATOR_HEADER = re.compile(r"一级指标|二级指标|三级指标|绩效指标|指标名称|指标值|产出指标")
_SELF_EVAL_HEADER = re.compile(r"实际完成值|完成值|自评得分|得分|偏差原因")
_CODE_HEADER = re.compile(r"科目编码|科目代码|功能分类|经济分类|功能科目|经济科目|类款项|^类$|^款$|^项$|科目名称")
_PROJECT_NAME_COLUMN = re.compile(r"项目名称|一级项目|二级项目|项目单位")
_AMOUNT_HEADER = re.compile(r"金额|预算数|合计|小计|财政拨款|总额|决算数")
_SUMMARY_HEADER = re.compile(r"收入|支出")
_DEPARTMENT_HEADER = re.compile(r"年度重点工作任务|部门整体|整体支出|财政供养人员")

FINAL_ACCOUNTS = re.compile(r"决算")


@dataclass(frozen=True)
class Classification:
    kind: TableKind
    stage: str  # 预算 | 决算
    reason: str  # which words decided, for `inspect`
    family: str = ""  # the reader; the kind's own unless the header says otherwise

    def __post_init__(self) -> None:
        if not self.family:
            object.__setattr__(self, "family", self.kind.family)


def clean_title(title: str) -> str:
    """The title's matching key without numbering (公开01表, 表1, 表一, 附表2, 一、, （三）) and year."""
    k = key(title)
    k = re.sub(r"^附件\d*[:：]?", "", k)
    k = re.sub(r"^(公开|附)?表\d{0,3}[-－—]?\d{0,2}[:：、.．]?|^公开\d{1,3}表|^公开表\d{1,3}|^表[一二三四五六七八九十]{1,3}[、.．]?", "", k)
    k = re.sub(r"^[(（][一二三四五六七八九十\d]{1,3}[)）]|^[一二三四五六七八九十\d]{1,3}[、.．]", "", k)
    k = re.sub(r"\d{4}年度?", "", k)
    return k


def classify(title: str, header: str = "", context: str = "") -> Classification:
    """The kind of a table from its ``title`` (as printed) and ``header`` (its first rows' words).

    ``context`` is text around the title (document title, a ``决算`` page heading) used only for
    the stage.
    """
    t = clean_title(title)
    h = key(header)
    stage = "决算" if FINAL_ACCOUNTS.search(t) or (not t and FINAL_ACCOUNTS.search(key(context))) else "预算"
    by_title = next((kind for pattern, kind in _TITLE_RULES if pattern.search(t)), None) if "表" in t or t.endswith(("情况", "预算")) else None
    has_indicators = bool(_INDICATOR_HEADER.search(h))
    if by_title == "ProjectExpenditure" and not _PROJECT_NAME_COLUMN.search(h):
        # 项目支出 by classification code (…项目支出情况表（按经济分类科目）) or by category: coded rows
        return Classification(KINDS[by_title], stage, f"title {title!r}; header lists codes or categories, not projects", CODED)
    if by_title is not None:
        return Classification(KINDS[by_title], stage, f"title {title!r}")
    # no decisive title: the header decides
    if has_indicators and _SELF_EVAL_HEADER.search(h):
        return Classification(KINDS["SelfEvaluationTable"], stage, "header names 指标 and 完成值/得分")
    if has_indicators and _DEPARTMENT_HEADER.search(h):
        return Classification(KINDS["DepartmentTargetTable"], stage, "header names 指标 and 部门整体/重点工作任务")
    if has_indicators:
        return Classification(KINDS["ProjectTargetTable"], stage, "header names indicator levels (一级/二级/三级指标)")
    if _DEPARTMENT_HEADER.search(h):
        return Classification(KINDS["DepartmentTargetTable"], stage, "header names 年度重点工作任务")
    if _CODE_HEADER.search(h):
        return Classification(KINDS["ExpenditureTable"], stage, "header names classification codes (科目编码/功能分类)")
    return Classification(KINDS["UnknownTable"], stage, f"no table kind in title {title!r} or header")


_TITLE_END = re.compile(r"(表|情况|一览)([(（][^()（）]{1,20}[)）])*$")
_NOT_TITLE = re.compile(r"[，。；！？]|…{2}|\.{4}|·{4}")


def looks_like_title(text: str) -> bool:
    """A table title as printed: short, ends in 表 (or …情况表（功能科目）), no sentence punctuation,
    not a table-of-contents entry (leaders, trailing page number)."""
    k = key(text)
    if not (3 <= len(k) <= 60) or _NOT_TITLE.search(text) or re.search(r"\d+$", k) and not k.endswith("表"):
        return False
    return bool(_TITLE_END.search(k)) and "表" in k
