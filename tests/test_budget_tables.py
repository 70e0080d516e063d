"""Budget tables of real documents read by their kind: codes printed split, as their new segment
only, without a 款's leading zero, glued to names or two-up; money units from each kind of caption;
columns named by composed headings; 决算 columns with their roles; summary rows with their column
group; project lists; names printed without codes resolved from the same document.

Documents: ``tests/fixtures/real`` (copied from corpus/real, PDF and pdftotext -layout of each) and
``tests/fixtures/budget`` (excerpts of bulk documents, see its README). Amounts are exact, in 元.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import FIXTURES

REAL = FIXTURES / "real"
BUDGET = FIXTURES / "budget"
_DOCS: dict[Path, object] = {}


def doc(path: Path):
    from ingest.parse import read_document
    from ingest.text import read_source

    if path not in _DOCS:
        _DOCS[path] = read_document(read_source(path))
    return _DOCS[path]


def lines(d, code: str, title: str | None = None):
    return [ln for t in d.budget_tables for ln in t.lines if ln.code == code and (title is None or title in t.title)]


def one(d, code: str, title: str | None = None):
    got = lines(d, code, title)
    assert len(got) == 1, [(ln.code, ln.total) for ln in got]
    return got[0]


def mapped(d, unit: str, region: list[tuple[str, str, str]]):
    """The document's graph; unit and region set when the document's own reading did not find them
    (not what these tests are about)."""
    from ingest.mapping import map_document
    from ingest.records import RegionRef

    d.unit_name = d.unit_name or unit
    d.region = d.region if d.region.chain else RegionRef(region)
    return map_document(d).graph


def yuan(s: str) -> Decimal:
    return Decimal(s)


def both(stem: str) -> list[Path]:
    return [REAL / f"{stem}.txt", REAL / f"{stem}.pdf"]


WANLI = "05-shanghai-putuo-wanli-street-2024-budget"
GUIHUA = "07-shanghai-putuo-guihuaziyuan-2024-dept-final-accounts"
YANTAI = "11-yantai-minzheng-2026-dept-budget"
SHUIWU = "12-suzhou-shuiwu-2026-unit-budget"
HUZHOU = "15-huzhou-tuiyijunren-2026-dept-budget"
GAOYUAN = "01-jiangsu-gaoyuan-2019-dept-budget"


# -- codes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", both(WANLI), ids=lambda p: p.suffix)
def test_zero_less_kuan_restored_from_the_class_above(path):
    # printed "301   2    津贴补贴" and "301   7    绩效工资": the 款's leading zero lost
    d = doc(path)
    table = "基本支出"
    assert (one(d, "30102", table).name, one(d, "30102", table).total.yuan) == ("津贴补贴", yuan("16623810"))
    assert (one(d, "30107", table).name, one(d, "30107", table).total.yuan) == ("绩效工资", yuan("11447100"))
    assert not lines(d, "3012") and not lines(d, "3017")


@pytest.mark.parametrize("path", both(YANTAI), ids=lambda p: p.suffix)
def test_codes_printed_as_their_new_segment_only(path):
    # 210 / 11 / 01 行政单位医疗 = 2101101; a page break in the middle: 20 临时救助 / [page] / 02 …
    d = doc(path)
    t = "支出总体情况表"
    assert one(d, "2101101", t).total.yuan == yuan("356200.00")
    assert one(d, "21011", t).name == "行政事业单位医疗"
    assert (one(d, "2080201", t).name, one(d, "2080201", t).total.yuan) == ("行政运行", yuan("6687700.00"))
    assert (one(d, "2082002", t).name, one(d, "2082002", t).total.yuan) == ("流浪乞讨人员救助支出", yuan("10967700.00"))
    assert one(d, "2296002", t).total.yuan == yuan("11960000.00")


@pytest.mark.parametrize("path", both(HUZHOU), ids=lambda p: p.suffix)
def test_codes_indented_by_level_and_headings_composed(path):
    d = doc(path)
    ln = one(d, "2082801", "一般公共预算支出表")
    assert ln.name == "行政运行" and ln.total.yuan == yuan("5715600.00")
    assert [(c.heading, c.money.printed) for c in ln.columns] == [
        ("合计", "571.56"), ("基本支出›小计", "571.56"), ("基本支出›人员经费", "523.00"), ("基本支出›公用经费", "48.57")]
    # empty cells between: 抚恤 136.50 is 项目支出, not 基本支出
    assert [(c.heading, c.money.printed) for c in one(d, "20808", "一般公共预算支出表").columns] == [
        ("合计", "136.50"), ("项目支出", "136.50")]


def test_glued_codes_and_several_rows_on_one_line():
    d = doc(Path(__file__).resolve().parent.parent / "samples" / "extra" / "shanghai-putuo-shiquanlu-street-2026-unit-budget.txt")
    # "2010507专项普查活动 500,000" and "… 90,000 90,000 20138 市场监督管理事务 225,872 225,872"
    assert (one(d, "2010507", "支出预算总表").name, one(d, "2010507", "支出预算总表").total.yuan) == ("专项普查活动", 500000)
    assert one(d, "20138", "收入预算总表").total.yuan == 225872
    # "301 01基本工资": a split code whose last segment is glued to the name
    assert one(d, "30101", "经济分类").name == "基本工资"


def test_a_number_is_a_code_only_where_and_as_a_code_is_printed():
    from ingest.budget_tables import Layout, cells_of, scan_row
    from ingest.codes import Hierarchy, scheme_of, whole_code
    from ingest.text import split_lines

    # counts, standards' numbers and years (lines of real documents) are never codes
    for raw in ["           重大创新团队        15 个、苏州创新创业领军人才               300 人，国家级、",
                "                1．《城市环境卫生设施规划标准》（GB/T                50337-2018）",
                "            2026 年度一般公共预算拨款支出预算表",
                "烟台市冬季清洁取暖监督检查抽查数量\t≥230个村"]:
        (line,) = split_lines(raw)
        assert not [it for it in scan_row(line, cells_of(line), 0, Layout(grid=line.tabbed), True) if it.kind == "coded"]
    assert whole_code("230个村") is None and whole_code("50337-2018）") is None and whole_code("2026年") is None
    assert whole_code("2014001-行政运行") == ("2014001", "行政运行")
    assert whole_code("[30213]维修（护）费") == ("30213", "维修（护）费")
    # plausible 类 only: 功能 2xx, 经济 3xx/5xx; 7 digits are always 功能
    assert [scheme_of(c) for c in ("2080104", "30213", "50101", "123", "4010101", "3010101")] == [
        "functional", "economic", "economic", None, None, None]
    h = Hierarchy()
    h.see("208")
    assert h.compose([("02", "款")]) == "20802"
    h.see("20802")
    assert h.compose([("01", "项")]) == "2080201"
    assert Hierarchy().compose([("01", "项")]) is None  # a 项 with no 款 above it is no code


# -- tables printed two-up, wrapped names ------------------------------------------------------------
@pytest.mark.parametrize("path", both(GUIHUA), ids=lambda p: p.suffix)
def test_two_up_economic_table_reads_both_halves(path):
    d = doc(path)
    t = "基本支出决算表"
    assert one(d, "30101", t).total.yuan == yuan("5376400.00")
    assert (one(d, "30201", t).name, one(d, "30201", t).total.yuan) == ("办公费", yuan("846200.00"))
    # right half, the code at the end of one line and its name and amount on the next (layout text)
    assert (one(d, "30207", t).name, one(d, "30207", t).total.yuan) == ("邮电费", yuan("80500.00"))
    assert (one(d, "310", t).name, one(d, "310", t).total.yuan) == ("资本性支出", yuan("397600.00"))
    assert one(d, "30108", t).name == "机关事业单位基本养老保险缴费"
    assert len([ln for tb in d.budget_tables if t in tb.title for ln in tb.lines]) == 65


def test_subject_names_wrapped_around_the_code_line():
    d = doc(REAL / f"{GUIHUA}.txt")
    t = "一般公共预算财政拨款支出决算表"
    names = {ln.code: ln.name for tb in d.budget_tables if tb.title == t for ln in tb.lines}
    assert names["208"] == "社会保障和就业支出"
    assert names["2080506"] == "机关事业单位职业年金缴费支出"
    assert names["2120101"] == "行政运行"  # printed on the line above its code
    assert names["21202"] == "城乡社区规划与管理"


def test_a_segment_printed_alone_with_its_name_wrapped_above_and_below():
    """烟台市民政局 收入总体情况表 in -layout text: `其他行政事业单位养老支` / `99   3.56  3.56  3.56` / `出`:
    the 项 segment under the 项 column, left of every amount, is a code (it was read as an amount, and
    款 20805 did not add up)."""
    from ingest.consistency import check_document

    d = doc(REAL / f"{YANTAI}.txt")
    for code, name, printed in (("2080599", "其他行政事业单位养老支出", "3.56"), ("2101199", "其他行政事业单位医疗支出", "40.62")):
        ln = one(d, code, "收入总体情况表")
        assert (ln.name, ln.total.printed, ln.total.yuan) == (name, printed, yuan(printed) * 10000)
    assert [f.describe() for f in check_document(d) if not f.ok] == []


# -- money units -------------------------------------------------------------------------------------
def test_money_unit_from_each_kind_of_caption():
    from ingest.amounts import caption_unit

    # 单位：万元 inside the table's grid (Word PDF): 17,279.29 万元, not 17,279.29 元
    assert one(doc(REAL / f"{GAOYUAN}.pdf"), "2040501", "财政拨款支出").total.yuan == yuan("172792900.00")
    # 单位：苏州市水务局 … 单位：万元 on one line
    assert one(doc(REAL / f"{SHUIWU}.txt"), "2130306", "支出总表").total.yuan == yuan("154566200.00")
    # 单位：元
    assert one(doc(REAL / f"{WANLI}.txt"), "2010507", "一般公共预算").total == one(doc(REAL / f"{WANLI}.pdf"), "2010507", "一般公共预算").total
    assert one(doc(REAL / f"{WANLI}.txt"), "2010507", "一般公共预算").total.unit == "元"
    # 单位：万 / 元 split over two lines (公开09表 of 01)
    lines_01 = (REAL / f"{GAOYUAN}.txt").read_text(encoding="utf-8").split("\n")
    assert caption_unit("\n".join(lines_01[473:475])) == "万元"
    assert caption_unit("部门（单位）：烟台市民政局                单位：万元") == "万元"
    assert caption_unit("编制单位：元宝山区财政局") is None


def test_a_table_without_a_caption_takes_the_unit_all_the_others_print(tmp_path):
    from ingest.parse import read_document
    from ingest.text import read_source

    text = (REAL / f"{SHUIWU}.txt").read_text(encoding="utf-8").split("\n")
    caption = next(i for i, ln in enumerate(text) if "支出总表" in ln and ln.strip() == "支出总表") + 1
    assert "单位：万元" in text[caption]
    no_caption = text[:caption] + ["单位：苏州市水务局"] + text[caption + 1:]
    f = tmp_path / "no-caption.txt"
    f.write_text("\n".join(no_caption), encoding="utf-8")
    d = read_document(read_source(f))
    assert one(d, "2130306", "支出总表").total.yuan == yuan("154566200.00")
    # another table printing 元: no agreement, the table is skipped with its reason, never guessed
    other = next(i for i, ln in enumerate(no_caption) if ln.strip() == "财政拨款收支总表") + 1
    assert "单位：万元" in no_caption[other]
    mixed = no_caption[:other] + [no_caption[other].replace("单位：万元", "单位：元")] + no_caption[other + 1:]
    f.write_text("\n".join(mixed), encoding="utf-8")
    d = read_document(read_source(f))
    assert not lines(d, "2130306", "支出总表")
    (skipped,) = [t for t in d.tables if t.status == "skipped" and t.title == "支出总表"]
    assert "prints no money unit" in skipped.reason


# -- 决算 --------------------------------------------------------------------------------------------
def test_final_accounts_columns_are_actuals_and_budget_vs_actual_is_a_query():
    from ingest.budget_tables import _role
    from ingest.records import ACTUAL, ADJUSTED, BUDGET

    assert [_role([h], "决算") for h in ("年初预算数", "全年预算数", "调整预算数", "全年执行数", "决算数", "合计")] == [
        BUDGET, ADJUSTED, ADJUSTED, ACTUAL, ACTUAL, ACTUAL]
    assert _role(["合计"], "预算") == BUDGET
    d = doc(REAL / f"{GUIHUA}.pdf")
    ln = one(d, "2120101", "一般公共预算财政拨款支出决算表")
    assert [(c.heading, c.money.printed, c.role) for c in ln.columns] == [
        ("合计", "1092.80", ACTUAL), ("基本支出", "1084.02", ACTUAL), ("项目支出", "8.77", ACTUAL)]
    g = mapped(d, "上海市普陀区规划和自然资源局", [("上海市", "province", "310000"), ("普陀区", "district", "310107")])
    rows = list(g.query("""PREFIX bkg: <https://w3id.org/budgetkg/def#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?actual ?role WHERE { ?l bkg:classification ?c ; bkg:actualAmount ?actual ; bkg:inTable/rdfs:label "一般公共预算财政拨款支出决算表" ;
              bkg:columnAmount ?ca . ?ca bkg:order 1 ; bkg:amountRole ?role . FILTER(STRENDS(STR(?c), "/2120101")) }"""))
    assert {(Decimal(str(r[0])), str(r[1]).rsplit("#", 1)[1]) for r in rows} == {(Decimal("10928000.00"), "ActualAmount")}


# -- summary tables, totals ---------------------------------------------------------------------------
def test_summary_table_rows_keep_their_column_group():
    d = doc(REAL / f"{GAOYUAN}.pdf")
    summary = next(t for t in d.budget_tables if t.kind == "IncomeExpenditureSummary")
    rows = {(r.label, r.money.printed, r.group) for r in summary.summary_rows}
    assert ("一、财政拨款", "37,188.34", "收入") in rows
    assert ("四、公共安全支出", "27,488.23", "支出›功能分类") in rows
    assert ("一、基本支出", "21,968.00", "支出›支出用途") in rows
    assert summary.summary_totals["收入合计"] == summary.summary_totals["支出合计"]
    # 支出总计 of the 收支总表 = the 支出总表's 合计
    spending = next(t for t in d.budget_tables if t.kind == "ExpenditureTable")
    assert summary.total == spending.total and spending.total.yuan == yuan("371883400.00")


@pytest.mark.parametrize("path", both(SHUIWU), ids=lambda p: p.suffix)
def test_table_continued_after_a_running_page_header_adds_up(path):
    # 支出总表 runs over a page; the last rows follow the page header "苏州市水务局2026年度单位预算公开"
    d = doc(path)
    t = next(t for t in d.budget_tables if t.title == "支出总表")
    assert one(d, "2210201", "支出总表").total.yuan == yuan("1609500.00")
    assert sum(ln.total.yuan for ln in t.lines if len(ln.code) == 3) == t.total.yuan == yuan("925962400.00")
    for k in ("22102", "21303"):
        kids = [ln.total.yuan for ln in t.lines if len(ln.code) == 7 and ln.code.startswith(k)]
        assert sum(kids) == one(d, k, "支出总表").total.yuan


# -- project lists, names without codes ----------------------------------------------------------------
@pytest.mark.parametrize("path", both(YANTAI), ids=lambda p: p.suffix)
def test_project_list_with_categories(path):
    d = doc(path)
    entries = d.project_budgets
    assert len(entries) == 20
    first = entries[0]
    assert (first.name, first.amount.yuan, first.amount.unit, first.category) == ("民政业务工作经费", yuan("1760000.00"), "万元", "其他运转类")
    last = entries[-1]
    assert (last.name, last.amount.printed, last.category) == ("市级精神障碍社区康复服务技术指导中心建设项目", "60.00", "特定目标类")


@pytest.mark.parametrize("path", both(HUZHOU), ids=lambda p: p.suffix)
def test_project_list_with_implementing_units_mapped(path):
    d = doc(path)
    assert [(e.implementing_unit, e.name, e.amount.printed) for e in d.project_budgets][3] == (
        "湖州市军队离休退休干部休养所", "军休服务管理", "2596.40")
    g = mapped(d, "湖州市退役军人事务局", [("浙江省", "province", "330000"), ("湖州市", "city", "330500")])
    rows = list(g.query("""PREFIX bkg: <https://w3id.org/budgetkg/def#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?a ?u WHERE { ?e a bkg:ProjectBudgetEntry ; rdfs:label "军休服务管理" ; bkg:amount ?a ; bkg:implementingUnit ?u }"""))
    assert [(Decimal(str(a)), str(u)) for a, u in rows] == [(Decimal("25964000.00"), "湖州市军队离休退休干部休养所")]


def test_names_printed_without_codes_take_the_codes_the_document_prints():
    d = doc(BUDGET / "zhuhai-commerce-2026-basic-expenditure-by-unit.txt")
    t = next(t for t in d.budget_tables if t.title == "部门预算基本支出预算表")
    inferred = [(ln.code, ln.name, ln.total.printed) for ln in t.lines if ln.code_inferred]
    # 表7 prints "[302]商品和服务支出" and "[303]对个人和家庭的补助"; 表11 prints the names only, per unit
    assert inferred == [("302", "商品和服务支出", "445.41"), ("303", "对个人和家庭的补助", "1,507.04"),
                        ("302", "商品和服务支出", "69.17"), ("303", "对个人和家庭的补助", "294.79"),
                        ("302", "商品和服务支出", "11.58"), ("303", "对个人和家庭的补助", "0.55")]
    # 工资和福利支出 is printed with no code anywhere in the document: never given one
    assert "工资和福利支出" in [r.label for r in t.summary_rows]
    assert all(not ln.code_inferred for tb in d.budget_tables if tb is not t for ln in tb.lines)
    g = mapped(d, "珠海市商务局", [("广东省", "province", "440000"), ("珠海市", "city", "440400")])
    n = list(g.query("""PREFIX bkg: <https://w3id.org/budgetkg/def#> SELECT (COUNT(?l) AS ?n) WHERE { ?l bkg:codeInferred true }"""))
    assert int(n[0][0]) == 6


KUNMING = BUDGET / "kunming-xinfang-2026-fiscal-summary-and-general-budget.pdf"
CHANGCHUN = BUDGET / "changchun-xinfang-2026-summary-income-by-unit.pdf"


def test_a_budget_table_printing_last_years_actuals_first_reads_this_years_budget():
    """昆明市信访局 一般公共预算支出表: 2025年执行数 | 扣除中央基建投资后执行数 | 2026年预算数 (小计 基本支出
    项目支出) | … | 增减: a line's amount is its 2026 budget; a line whose budget cells are empty has none."""
    d = doc(KUNMING)
    (t,) = [t for t in d.budget_tables if t.kind == "GeneralBudgetExpenditure"]
    assert t.total.yuan == yuan("164748200.00") and t.total.printed == "16,474.82"
    got = {ln.code: ln.total.yuan if ln.total else None for ln in t.lines}
    assert (got["201"], got["2014001"], got["2014099"], got["2210203"]) == (
        yuan("131443700.00"), yuan("58262100.00"), yuan("36239800.00"), yuan("3410000.00"))
    # 卫生健康支出 was spent in 2025 (218.91 万元) and has no 2026 budget
    assert (got["210"], got["21011"], got["2101101"]) == (None, None, None)
    ln = one(d, "2014099")
    assert [(c.heading, c.money.printed) for c in ln.columns][:5] == [
        ("2025年执行数›执行数", "25,143.24"), ("2025年执行数›扣除中央基建投资后执行数", "1,601.04"),
        ("2026年预算数›年初预算数›小计", "3,623.98"), ("2026年预算数›年初预算数›项目支出", "3,623.98"),
        ("2026年预算数›扣除中央基建投资后预算数", "3,623.98")]
    from ingest.consistency import check_document

    assert [f.describe() for f in check_document(d) if not f.ok] == []


def test_a_unit_code_printed_beside_the_unit_name_is_not_an_amount():
    """长春市信访局 收入总表 by unit: 部门（单位）代码 105001 | 长春市信访局 | 1682.76 …; the code is not the
    table's total (it was read as 105,001 万元)."""
    d = doc(CHANGCHUN)
    (t,) = [t for t in d.budget_tables if t.kind == "IncomeTable"]
    assert t.total is None
    assert [(r.label, r.money.yuan) for r in t.summary_rows] == [("长春市信访局", yuan("16827600.00"))]
