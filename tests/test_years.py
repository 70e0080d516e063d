"""Years linked: one budget unit in every year, the same project of a unit linked across years with the
rule that matched it, computed when a document is committed (both directions, idempotent).

The corpus has no unit in two years, so the second year is derived from the real 2024 部门预算 of
东莞市清溪镇政务服务中心 with changed figures (``tests/derived.py`` says exactly what changes)."""
from __future__ import annotations


import pytest

from derived import QINGXI_2024, qingxi_next_year
from ontology import PREFIXES, QUERIES_DIR, read_query

LINKS = """SELECT ?rule ?earlier ?y1 ?later ?y2 WHERE {
  ?k a bkg:ProjectYearLink ; bkg:matchRule ?rule ; bkg:earlierProject ?p1 ; bkg:laterProject ?p2 .
  ?p1 rdfs:label ?earlier ; bkg:fiscalYear ?y1 . ?p2 rdfs:label ?later ; bkg:fiscalYear ?y2 } ORDER BY ?earlier"""

EXPECTED_LINKS = [
    ("exact name", "专用设备租赁费支出", "2024", "专用设备租赁费支出", "2025"),
    ("exact name", "办事大厅信息化设备改造与对接政务服务一体化平台费用", "2024", "办事大厅信息化设备改造与对接政务服务一体化平台费用", "2025"),
    ("exact name", "办公用房改造", "2024", "办公用房改造", "2025"),
    ("name after normalisation", "政务服务中心院内停车场建设", "2024", "政务服务中心（院内）停车场建设", "2025"),
    ("exact name", "服务外包经费（政务服务）", "2024", "服务外包经费（政务服务）", "2025"),
    ("exact name", "机关事业单位派遣人员经费", "2024", "机关事业单位派遣人员经费", "2025"),
    ("exact name", "货物购置类项目（服装制服）", "2024", "货物购置类项目（服装制服）", "2025"),
    ("exact name", "集装箱式政务分厅改造装修", "2024", "集装箱式政务分厅改造装修", "2025"),
]


def rows(store, query: str) -> list[tuple]:
    res = store.query(query, prefixes=PREFIXES)
    names = [v.value for v in res.variables]
    return [tuple(r[n].value if r[n] is not None else None for n in names) for r in res]


def links_graph(store) -> list[str]:
    return sorted(q for q in store.dump("nq").decode("utf-8").splitlines() if q.endswith("<https://w3id.org/budgetkg/id/graph/links> ."))


@pytest.fixture
def two_years(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    return QINGXI_2024, qingxi_next_year(folder)


def ingest_each(data, files):
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    store = open_store(data)
    for f in files:  # one commit each: links are made against what the store already holds
        assert [o.status for o in ingest_paths(store, [f], workers=1)] == ["added"]
    return store


def test_one_unit_in_every_year(tmp_path, two_years):
    store = ingest_each(tmp_path / "data", two_years)
    try:
        units = rows(store, "SELECT DISTINCT ?u ?name WHERE { ?d a bkg:Document ; bkg:budgetUnit ?u . ?u rdfs:label ?name }")
        assert [n for _, n in units] == ["东莞市清溪镇政务服务中心"]
        years = rows(store, f"SELECT ?y WHERE {{ ?d a bkg:Document ; bkg:budgetUnit <{units[0][0]}> ; bkg:fiscalYear ?y }} ORDER BY ?y")
        assert years == [("2024",), ("2025",)]
    finally:
        store.close()


def test_unit_iri_ignores_spaces_brackets_and_own_mark():
    from ingest.mapping import unit_iri

    base = unit_iri("上海市普陀区人民政府石泉路街道办事处")
    assert unit_iri("上海市普陀区人民政府石泉路街道办事处（本级）") == base
    assert unit_iri("上海市普陀区人民政府石泉路街道办事处(本级)") == base
    assert unit_iri("上海市普陀区人民政府 石泉路街道办事处") == base
    assert unit_iri("上海市普陀区人民政府长征镇") != base
    # unchanged for a name printed plainly: existing IRIs stay what they were
    from ontology import mint
    assert unit_iri("东莞市清溪镇政务服务中心") == mint("unit", "东莞市清溪镇政务服务中心")


@pytest.mark.parametrize("order", ["earlier first", "later first"])
def test_projects_linked_across_years_in_either_order(tmp_path, two_years, order):
    files = list(two_years) if order == "earlier first" else list(reversed(two_years))
    store = ingest_each(tmp_path / "data", files)
    try:
        assert rows(store, LINKS) == EXPECTED_LINKS
    finally:
        store.close()


def test_links_are_the_same_whatever_the_order_and_idempotent(tmp_path, two_years):
    from ingest.pipeline import ingest_paths

    a = ingest_each(tmp_path / "a", two_years)
    b = ingest_each(tmp_path / "b", list(reversed(two_years)))
    try:
        assert links_graph(a) == links_graph(b) and len(links_graph(a)) > 0
        before = a.dump("nq")
        assert [o.status for o in ingest_paths(a, list(two_years), workers=1)] == ["unchanged", "unchanged"]
        assert a.dump("nq") == before
    finally:
        a.close()
        b.close()


def test_a_changed_document_is_linked_again(tmp_path, two_years):
    """Re-ingesting a year whose project was renamed past recognition drops that project's link and keeps
    the others."""
    from ingest.pipeline import ingest_paths

    store = ingest_each(tmp_path / "data", two_years)
    try:
        renamed = tmp_path / "docs" / "dongguan-qingxi-2025-department-budget-derived.txt"
        renamed.write_text(renamed.read_text(encoding="utf-8").replace("办公用房改造", "综合楼装修工程"), encoding="utf-8")
        assert [o.status for o in ingest_paths(store, [renamed], workers=1)] == ["replaced"]
        assert rows(store, LINKS) == [x for x in EXPECTED_LINKS if x[1] != "办公用房改造"]
    finally:
        store.close()


def test_year_on_year_query_shows_amounts_and_targets_with_the_change(tmp_path, two_years):
    store = ingest_each(tmp_path / "data", two_years)
    try:
        got = rows(store, read_query(QUERIES_DIR / "year-on-year.rq").text)
        rental = [r for r in got if r[3] == "专用设备租赁费支出"]
        # (indicator, 2024 target, 2025 target) beside the amounts 432,000 → 480,000 元 (+48,000)
        assert {(r[6], r[7], r[8]) for r in rental} == {("432000", "480000", "48000")}
        assert [(r[9], r[10], r[11]) for r in rental] == [
            ("单位员工满意度（%）", "99%", "99%"), ("当年度预算执行率（%）", "100%", "100%"),
            ("报障后维护人员到场时间", "≤24小时", "≤12小时"), ("政务数据资源开放数量", "≥900项", "≥900项"),
            ("网上业务办理量", "≥100宗/台", "≥100宗/台"), ("运维维护设施数量", "24台", "24台")]
        parking = {(r[3], r[4], r[5]) for r in got if r[4] == "政务服务中心（院内）停车场建设"}
        assert parking == {("政务服务中心院内停车场建设", "政务服务中心（院内）停车场建设", "name after normalisation")}
        totals = rows(store, read_query(QUERIES_DIR / "unit-totals-by-year.rq").text)
        assert totals == [("东莞市清溪镇政务服务中心", "2024", "9928500", None, None, None, None),
                          ("东莞市清溪镇政务服务中心", "2025", "9976500", "2024", "9928500", "48000", "0.48")]
    finally:
        store.close()


def test_project_key():
    from ingest.identity import project_key

    assert project_key("政务服务中心院内停车场建设") == project_key("政务服务中心（院内）停车场建设")
    assert project_key("2024年度政务服务外包") == project_key("2025年 政务服务外包")
    assert project_key("服务外包经费(政务服务)") == project_key("服务外包经费（政务服务）")
    assert project_key("专用设备租赁费支出") != project_key("专用设备购置费支出")


def test_bulk_ingest_links_like_a_serial_one(tmp_path, two_years):
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    serial = ingest_each(tmp_path / "serial", two_years)
    bulk = open_store(tmp_path / "bulk")
    try:
        assert {o.status for o in ingest_paths(bulk, [two_years[0].parent, two_years[1]], bulk=True, workers=1)} <= {"added"}
        # the samples folder brings its other documents too: compare the Qingxi links only
        assert links_graph(serial) == links_graph(bulk)
    finally:
        serial.close()
        bulk.close()
