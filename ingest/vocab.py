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


def level_candidates(cell: str) -> list[Level]:
    k = key(cell)
    return levels().get(k, [])


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

#: (pattern on the matching key, field). Order matters: first match wins.
PROJECT_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^项目名称$"), "name"),
    (re.compile(r"^项目类型$|^项目属性$|^项目类别$"), "project_type"),
    (re.compile(r"^项目等级$|^项目级次$"), "project_level"),
    (re.compile(r"^主管部门(及代码)?$|^主管单位$|^预算主管部门$"), "competent_department"),
    (re.compile(r"^用款单位$|^实施单位$|^项目实施单位$|^预算单位$"), "implementing_unit"),
    (re.compile(r"^实施周期$|^项目期$|^项目周期$"), "period"),
    (re.compile(r"^起始年度$|^开始年度$"), "start_year"),
    (re.compile(r"^到期年度$|^结束年度$|^截止年度$"), "end_year"),
    (re.compile(r"^(\d{4}年)?(年度)?预算金额(\(万?元\))?$|^(\d{4}年)?预算数(\(万?元\))?$"), "amount"),
    (re.compile(r"^项目资金(\(万?元\))?$|^资金情况(\(万?元\))?$"), "funds"),
    (re.compile(r"^项目资金总额(\(万?元\))?$|^资金总额(\(万?元\))?$|^项目总金额$"), "total_funds"),
    (re.compile(r"^年度资金(申请)?总额(\(万?元\))?$|^年度资金申请额$|^本年度资金总额$"), "annual_funds"),
    (re.compile(r"^(其中:)?(当年)?财政拨款$|^其中:当年财政拨款$"), "appropriation"),
    (re.compile(r"^上年结转(资金)?$"), "carry_over"),
    (re.compile(r"^其他资金$"), "other_funds"),
    (re.compile(r"^设立依据$|^立项依据$"), "basis"),
    (re.compile(r"^项目概述$|^项目概况$|^项目简介$"), "summary"),
    (re.compile(r"^总体(绩效)?目标$|^绩效目标$"), "goals"),
    (re.compile(r"^(实施周期|中长期|长期)(总)?目标$"), "overall_goal"),
    (re.compile(r"^(\d{4}年?)?(年度|当年度|本年度|年)(绩效)?目标$"), "annual_goal"),
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
PERIOD_VALUE = re.compile(r"^(实施周期|中长期|长期|全周期|整体)(绩效)?指标值$|^(实施周期|长期)目标值$")
ANNUAL_VALUE = re.compile(r"^(\d{4}年)?(当年度|年度|本年度|当年)?(绩效)?指标值$|^(年度)?目标值$")
INDICATOR_SECTION = re.compile(r"^(年度)?绩效指标$|^(长期|年度)?绩效指标$")
