"""Vocabulary the parsers recognise structure by.

Indicator levels come from the ontology's SKOS scheme (``ontology/indicator-levels.ttl``): a cell
is a level name when its matching key equals a concept's prefLabel or altLabel. Field labels of
the target tables are listed here with the record attribute they fill.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from ontology import BKG, LEVELS_TTL

from .text import key


@dataclass(frozen=True)
class Level:
    iri: URIRef
    label: str  # skos:prefLabel
    depth: int  # 1 or 2
    parent: URIRef | None


@lru_cache(maxsize=1)
def levels() -> dict[str, list[Level]]:
    """Matching key → candidate levels (成本指标 is both a 一级 and, in older templates, a 二级)."""
    g = Graph().parse(LEVELS_TTL)
    out: dict[str, list[Level]] = {}
    for concept in g.subjects(SKOS.inScheme, BKG.IndicatorLevels):
        parent = g.value(concept, SKOS.broader)
        pref = str(g.value(concept, SKOS.prefLabel))
        level = Level(concept, pref, 2 if parent is not None else 1, parent)
        for label in [pref, *map(str, g.objects(concept, SKOS.altLabel))]:
            out.setdefault(key(label), []).append(level)
    return out


#: a score printed with a level name: 成本指标(0-20)分, 产出指标（40-50）分, 满意度指标（10分）, 效益指标30分
_LEVEL_SCORE = re.compile(r"^(.+?指标|.+?)((?:\(|（)\s*\d+(?:\.\d+)?(?:\s*[-—~～至]\s*\d+(?:\.\d+)?)?\s*分?\s*(?:\)|）)\s*分?|\d+(?:\.\d+)?分)$")


def split_level_score(cell: str) -> tuple[str, str | None]:
    """A level cell's name and the score printed with it: ``成本指标(0-20)分`` → (``成本指标``,
    ``(0-20)分``). The score is returned as printed (spaces and line breaks removed)."""
    k = key(cell)
    m = _LEVEL_SCORE.match(k)
    if m and m.group(1) in levels():
        return m.group(1), m.group(2)
    return k, None


def level_candidates(cell: str) -> list[Level]:
    name, _ = split_level_score(cell)
    return levels().get(name, [])


def level1_of(cell: str) -> Level | None:
    return next((lv for lv in level_candidates(cell) if lv.depth == 1), None)


def level2_of(cell: str) -> Level | None:
    return next((lv for lv in level_candidates(cell) if lv.depth == 2), None)


def children(parent: URIRef) -> list[Level]:
    seen = {}
    for cands in levels().values():
        for lv in cands:
            if lv.parent == parent:
                seen[lv.iri] = lv
    return list(seen.values())


# --- field labels of project / department target tables ------------------------------------

_UNIT_NOTE = r"(\((万元|元|万)\))?"

#: (pattern on the matching key, field). Order matters: first match wins. ``ignore`` labels are
#: fields no record keeps (项目负责人, 联系电话 …): recognised so that their values are not taken
#: for the value of the label before them.
PROJECT_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(一级|二级)?项目(\(政策\))?名称$|^单位\(项目\)名称$|^项目名称\(资金使用单位\)$|^专项(资金)?名称$|^政策(\(项目\))?名称$"), "name"),
    (re.compile(r"^项目(类型|属性|类别|分类|性质)$"), "project_type"),
    (re.compile(r"^项目等级$|^项目级次$"), "project_level"),
    (re.compile(r"^(业务|预算)?主管部门(及代码|名称)?$|^主管单位$"), "competent_department"),
    (re.compile(r"^(项目)?用款单位$|^(项目)?实施单位$|^资金使用单位$|^项目单位$|^实施主体$"), "implementing_unit"),
    (re.compile(r"^预算单位(名称)?$"), "budget_unit"),
    (re.compile(r"^(项目)?(实施|建设)周期$|^项目期$|^项目周期$|^实施期限$"), "period"),
    (re.compile(r"^起始年度$|^开始年度$"), "start_year"),
    (re.compile(r"^到期年度$|^结束年度$|^截止年度$"), "end_year"),
    (re.compile(r"^(\d{4}年)?(年度)?预算金额" + _UNIT_NOTE + r"$|^(\d{4}年)?预算数" + _UNIT_NOTE + r"$"), "amount"),
    (re.compile(r"^(项目|专项)?资金情况" + _UNIT_NOTE + r"$|^项目资金" + _UNIT_NOTE + r"$"), "funds"),
    (re.compile(r"^(项目|实施期)?资金总额" + _UNIT_NOTE + r"$|^项目总(金额|额|预算|投资)" + _UNIT_NOTE + r"$|^实施期(预算|资金)" + _UNIT_NOTE + r"$"), "total_funds"),
    (re.compile(r"^(年度|本年度|当年)(预算)?资金(申请)?总?额" + _UNIT_NOTE + r"$|^年度资金申请额$|^年度预算资金" + _UNIT_NOTE + r"$"
                r"|^当年(年度)?预算(金额)?" + _UNIT_NOTE + r"$|^本年度申请.{0,10}资金" + _UNIT_NOTE + r"$|^(当年)?财政拨款预算(金额)?" + _UNIT_NOTE + r"$"), "annual_funds"),
    (re.compile(r"^(其中:)?(当年)?财政(拨款|资金)" + _UNIT_NOTE + r"$"), "appropriation"),
    (re.compile(r"^(其中:)?上年结转(资金)?$"), "carry_over"),
    (re.compile(r"^(其中:)?其[他它]资金$"), "other_funds"),
    (re.compile(r"^设立依据$|^立项依据$|^项目审批$|^政策依据$"), "basis"),
    (re.compile(r"^项目概述$|^项目概况$|^项目简介$|^项目总体概况$|^项目(主要)?内容$"), "summary"),
    (re.compile(r"^总体(绩效)?目标$|^(项目)?绩效目标$"), "goals"),
    (re.compile(r"^(实施周期|中长期|长期|中期|项目实施期|实施期)(总体?)?(绩效)?目标$"), "overall_goal"),
    (re.compile(r"^(\d{4}年?)?(年度|当年度|本年度|年)(总体|主要)?(绩效)?目标(和成果)?$"), "annual_goal"),
    (re.compile(r"^(项目)?负责人$|^联系人$|^(联系)?电话$|^财政资金预算分类$|^(财政资金)?科目(代码|编码)$|^(年度)?预算执行率$|^执行率$"
                r"|^分值$|^得分$|^项目(编码|代码)$|^主要政策任务$"), "ignore"),
]

DEPARTMENT_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(部门|单位|部门\(单位\))名称$"), "unit_name"),
    (re.compile(r"^财政供养人员数$"), "staff_count"),
    (re.compile(r"^基本支出$"), "basic_expenditure"),
    (re.compile(r"^项目支出$"), "project_expenditure"),
    (re.compile(r"^总体(绩效)?目标$|^部门整体(绩效)?目标$"), "overall_goal"),
]


def match_field(cell: str, table: list[tuple[re.Pattern[str], str]]) -> str | None:
    k = key(cell)
    if not k:
        return None
    for pattern, field in table:
        if pattern.search(k):
            return field
    return None


#: headings of indicator tables and their value columns
INDICATOR_HEADER = re.compile(r"^(一级指标|二级指标|三级指标|指标名称|指标内容)$")
PERIOD_VALUE = re.compile(r"^(实施周期|中长期|长期|中期|全周期|整体|实施期)(绩效)?(指标|目标)值$")
ANNUAL_VALUE = re.compile(r"^(\d{4}年度?)?(当年度|年度|本年度|当年)?(绩效)?(指标|目标)值(\(.{0,20}\))?$")
INDICATOR_SECTION = re.compile(r"^(年度|长期|中期)?绩效(目标)?指标(\(\d+分\))?$|^年度绩效目标\(\d+分\)$|^绩效目标指标$")

#: column roles of an indicator table's heading row (pattern on the cell's matching key, role).
#: Levels and values first; then what a template prints beside a target; then the columns of a
#: 绩效自评表; then the project columns of a table that lists several projects row by row.
INDICATOR_COLUMNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^一级指标(\(.{0,6}\))?$"), "level1"),
    (re.compile(r"^二级指标(\(.{0,6}\))?$"), "level2"),
    (re.compile(r"^三级指标(\(.{0,6}\))?$|^(绩效)?指标名称$|^指标内容$"), "level3"),
    (PERIOD_VALUE, "period"),
    (ANNUAL_VALUE, "annual"),
    (re.compile(r"^指标(性质|符号)$|^(比较|运算)符号?$"), "nature"),
    (re.compile(r"^(计量|度量|指标)单位$"), "unit"),
    (re.compile(r"^(指标)?分值(权重)?(\(\d+分?\))?$|^分数$"), "score"),
    (re.compile(r"^(指标)?权重(分值)?(\(%\)|\(\d+分?\))?$"), "weight"),
    (re.compile(r"^评(\(扣\)|扣)?分(标准|规则|方法)$|^计分方法$|^评价标准$"), "standard"),
    (re.compile(r"^指标(解释|说明|定义)$|^指标值说明$|^备注$"), "explanation"),
    (re.compile(r"^指标方向(性)?$"), "direction"),
    (re.compile(r"^(全年)?实际(完成)?值$|^完成值$|^实际完成(情况)?$"), "actual"),
    (re.compile(r"^(自评)?得分$"), "self_score"),
    (re.compile(r"偏差原因|未完成原因|改进措施"), "deviation"),
    (INDICATOR_SECTION, "section"),
    (re.compile(r"^(单位|部门|预算单位)(名称)?$|^单位\(项目\)名称$"), "unit_name"),
    (re.compile(r"^(一级|二级)?项目(名称)?$|^项目名称\(资金使用单位\)$"), "project_name"),
    (re.compile(r"^(金额|预算数|预算金额|项目金额|资金总额|年度资金总额|年度预算)(\((万元|元)\))?$"), "amount"),
    (re.compile(r"^(年度|项目)?(总体)?(绩效)?目标$|^项目总体绩效目标$"), "goal"),
]


def column_role(cell: str) -> str | None:
    """The role of an indicator-table heading cell (level1 … deviation, project columns), or None."""
    k = key(cell)
    if not k:
        return None
    return next((role for pattern, role in INDICATOR_COLUMNS if pattern.search(k)), None)
