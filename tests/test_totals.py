"""Totals from budget lines count each yuan once: detail rows of one table kind, documents not counted by
another stored document (a 单位预算 beside its department's 部门预算), equal to what the documents print."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from conftest import EXTRA
from ontology import PREFIXES, QUERIES_DIR, read_query

TOTALS = read_query(QUERIES_DIR / "totals-by-region-year.rq").text
JUSTICE_DEPARTMENT = EXTRA / "shanghai-putuo-justice-bureau-2026-department-budget.txt"
JUSTICE_UNIT = EXTRA / "shanghai-putuo-justice-bureau-2026-unit-budget.txt"

#: 支出总计 as each sample prints it (read by hand from its 收支总表), in 元; 普陀区 is the 司法局's 部门预算,
#: which counts its own 单位预算 (86,959,408.34) and its 法律援助中心
PRINTED_TOTALS = [
    ("普陀区", 2026, Decimal("96282213.44")),  # 部门财务收支预算总表: 支出总计 96,282,213.44
    ("永登县", 2024, Decimal("1370500")),  # 表一: 支出总计 137.05 万元
    ("清溪镇", 2024, Decimal("9928500")),  # 表1: 本年支出合计 992.85 万元 (结转下年 0.00)
    ("石泉路街道", 2026, Decimal("76306134")),  # 财务收支预算总表: 支出总计 76,306,134
]


def rows(store, query: str) -> list[tuple]:
    res = store.query(query, prefixes=PREFIXES)
    names = [v.value for v in res.variables]
    return [tuple(r[n].value if r[n] is not None else None for n in names) for r in res]


def totals(store) -> list[tuple[str, int, Decimal]]:
    return [(r, int(y), Decimal(t)) for r, y, t in rows(store, TOTALS)]


def test_totals_by_region_year_equal_the_printed_totals(samples_store):
    t0 = time.perf_counter()
    got = totals(samples_store)
    print(f"totals-by-region-year on the samples: {(time.perf_counter() - t0) * 1000:.1f} ms")  # not asserted
    assert got == PRINTED_TOTALS


def test_detail_rows_sum_to_each_tables_printed_total(samples_store):
    """SUM of a table's detail rows is its printed total; 清溪镇's 表6 prints [301] 300.71 万元 over items
    that add up to 300.72: its own misprint, not double counting."""
    diffs = rows(samples_store, """
        SELECT ?title ?printed (SUM(?a) AS ?sum) WHERE {
          ?t a bkg:BudgetTable ; rdfs:label ?title ; bkg:printedTotal ?printed .
          ?l bkg:inTable ?t ; bkg:detailRow true ; bkg:amount ?a .
        } GROUP BY ?t ?title ?printed HAVING (SUM(?a) != ?printed)""")
    assert diffs == [("一般公共预算基本支出情况表（按经济分类科目）", "4711500", "4711600")]


def test_lines_say_their_level(samples_store):
    got = rows(samples_store, """SELECT ?code ?level ?detail WHERE {
        ?l bkg:inTable/rdfs:label "支出总体情况表" ; bkg:classification/skos:notation ?code ; bkg:codeLevel ?level ;
           bkg:detailRow ?detail ; bkg:budgetUnit/rdfs:label "东莞市清溪镇政务服务中心" } ORDER BY ?code""")
    assert got == [("208", "类", "false"), ("20801", "款", "false"), ("2080104", "项", "true"),
                   ("2080150", "项", "true"), ("20805", "款", "false"), ("2080502", "项", "true"),
                   ("2080505", "项", "true"), ("221", "类", "false"), ("22102", "款", "false"),
                   ("2210201", "项", "true"), ("2210202", "项", "true")]


def test_tables_say_their_kind_and_number(samples_store):
    got = rows(samples_store, """SELECT ?number ?ordinal ?kind WHERE {
        ?t a bkg:BudgetTable ; bkg:tableNumber ?number ; bkg:tableOrdinal ?ordinal ; bkg:tableKind ?kind ;
           bkg:budgetUnit/rdfs:label "永登县政务服务中心" } ORDER BY ?ordinal""")
    kinds = [(n, int(o), k.rsplit("#", 1)[1]) for n, o, k in got]
    # 表一 is not read (its title follows an 附件 line); 表八, 十一 are kinds no reader takes; 表十, 十二 print nothing
    assert kinds == [("二", 2, "IncomeTable"), ("三", 3, "ExpenditureTable"), ("四", 4, "FiscalAppropriationSummary"),
                     ("五", 5, "FiscalAppropriationExpenditure"), ("六", 6, "GeneralBudgetExpenditure"),
                     ("七", 7, "BasicExpenditure"), ("九", 9, "RunningCosts")]


@pytest.mark.parametrize("order", ["department first", "unit first"])
def test_a_department_and_its_units_budget_count_each_yuan_once(tmp_path, order):
    """上海市普陀区司法局 publishes a 部门预算 (96,282,213.44: the bureau and its 法律援助中心) and the bureau's
    own 单位预算 (86,959,408.34). Both stored, the unit's document is included in the department's and
    the total counts each yuan once, whichever arrives first; re-ingesting changes nothing."""
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    files = [JUSTICE_DEPARTMENT, JUSTICE_UNIT] if order == "department first" else [JUSTICE_UNIT, JUSTICE_DEPARTMENT]
    store = open_store(tmp_path / "data")
    try:
        for f in files:  # one commit each: the link is made against what is already stored
            assert [o.status for o in ingest_paths(store, [f], workers=1)] == ["added"]
        assert totals(store) == [("普陀区", 2026, Decimal("96282213.44"))]
        links = rows(store, """SELECT ?kind ?scope ?rule ?into WHERE {
            ?d bkg:documentKind ?kind ; bkg:documentScope/skos:prefLabel ?scope .
            OPTIONAL { ?k bkg:includedDocument ?d ; bkg:matchRule ?rule ; bkg:includingDocument/bkg:documentKind ?into } }
            ORDER BY ?kind""")
        assert links == [("单位预算", "单位本级", "same unit", "部门预算"), ("部门预算", "部门汇总", None, None)]
        # without the inclusion, a plain sum over both documents counts the bureau's money twice
        both = rows(store, TOTALS.replace("FILTER NOT EXISTS { ?doc bkg:includedIn ?department }", ""))
        assert [Decimal(t) for _, _, t in both] == [Decimal("96282213.44") + Decimal("86959408.34")]
        before = store.dump("nq")
        assert [o.status for o in ingest_paths(store, files, workers=1)] == ["unchanged", "unchanged"]
        assert store.dump("nq") == before
    finally:
        store.close()


def test_inclusion_is_dropped_with_the_department(tmp_path):
    """A department's document read again without the unit (here: the unit's document replaced by one
    of another year) leaves no stale link: links are recomputed whenever either side is committed."""
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    other_year = tmp_path / "justice-unit-2027.txt"
    other_year.write_text(JUSTICE_UNIT.read_text(encoding="utf-8").replace("2026", "2027"), encoding="utf-8")
    store = open_store(tmp_path / "data")
    try:
        ingest_paths(store, [JUSTICE_DEPARTMENT, JUSTICE_UNIT, other_year], workers=1)
        included = rows(store, "SELECT ?y WHERE { ?d bkg:includedIn ?dep ; bkg:fiscalYear ?y }")
        assert included == [("2026",)]  # the 2027 unit budget has no 2027 部门预算 to be counted by
        assert totals(store) == [("普陀区", 2026, Decimal("96282213.44")), ("普陀区", 2027, Decimal("86959408.34"))]
    finally:
        store.close()


def test_scope_from_the_document(samples_store):
    got = rows(samples_store, """SELECT ?unit ?kind ?scope WHERE { ?d bkg:printedUnitName ?unit ; bkg:documentKind ?kind ;
        bkg:documentScope ?scope } ORDER BY ?unit ?kind""")
    assert [(u, k, s.rsplit("#", 1)[1]) for u, k, s in got] == [
        ("上海市普陀区人民政府石泉路街道办事处（本级）", "单位预算", "UnitOwn"),
        ("上海市普陀区司法局", "单位预算", "UnitOwn"),
        ("上海市普陀区司法局", "部门预算", "DepartmentConsolidated"),
        ("东莞市东坑镇政务服务中心", "绩效目标表", "UnitOwn"),
        ("东莞市南城政务服务中心", "绩效目标表", "UnitOwn"),
        ("东莞市沙田镇政务服务中心", "绩效目标表", "UnitOwn"),
        ("东莞市清溪镇政务服务中心", "部门预算", "DepartmentConsolidated"),
        ("永登县政务服务中心", "单位预算", "SubordinateUnit"),
    ]
    listed = rows(samples_store, "SELECT ?name WHERE { ?d bkg:listsUnit ?name }")
    assert listed == [("普陀区法律援助中心",)]  # 机构设置: 1. 普陀区司法局本部 (the bureau itself) 2. 普陀区法律援助中心
