"""Performance tables of real documents in the shapes the national templates are printed in:
项目绩效目标表 with the name only in a title wrapped over two lines (泉州), several projects in one
table one row per indicator (井研 pipes, 长春 PDF), 指标性质/指标值/度量单位 columns composed into one
target, 分值/权重/指标解释 kept, 一级 names with score ranges (奉节), grids rebuilt from
``pdftotext -layout`` text (泉州, 烟台), a list of projects with goals and no grid (湖州), a table
extracted column by column (plain pdftotext), and a 部门整体绩效自评表 (宁德) with its values achieved.
Fixtures are real documents or page excerpts of them (tests/fixtures/targets, tests/fixtures/real)."""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

import pytest

from conftest import FIXTURES, SEEDS

TARGETS = FIXTURES / "targets"
REAL = FIXTURES / "real"


@lru_cache(maxsize=None)
def read(path: str):
    from ingest.parse import read_document
    from ingest.text import read_source

    return read_document(read_source(path))


def project(doc, name, amount_printed=None):
    got = [p for p in doc.projects if p.name == name and (amount_printed is None or p.amount.printed == amount_printed)]
    assert len(got) == 1, [(p.name, p.amount and p.amount.printed) for p in doc.projects]
    return got[0]


def indicator(p, text):
    got = [i for i in p.indicators if i.text == text]
    assert len(got) == 1, [i.text for i in p.indicators]
    return got[0]


def levels(i):
    return i.level1.label, i.level2.label


# -- several projects in one table, one row per indicator -----------------------------------------

PIPES = str(REAL / "17-jingyan-mata-2023-project-perf-targets-pipes_3rdparty_TRUNCATED.txt")


def test_pipe_table_of_several_projects_one_row_per_indicator():
    doc = read(PIPES)
    # the department's subtotal row (820-马踏镇部门 | 8,827,620.53) is not a project
    assert [(p.name, p.amount.yuan, p.amount.unit) for p in doc.projects] == [
        ("村组干部报酬", Decimal("3309840.00"), "元"), ("基层组织活动经费", Decimal("660000.00"), "元")]
    p = doc.projects[0]
    # 820001-井研县马踏镇人民政府: the unit without its code, the code kept apart
    assert (p.implementing_unit, p.unit_code) == ("井研县马踏镇人民政府", "820001")
    assert p.annual_goal == "按时发放村组干部报酬"
    assert len(p.indicators) == 8 and len(doc.projects[1].indicators) == 5  # the second is cut off by the copy


def test_nature_value_and_unit_columns_compose_one_target():
    p = read(PIPES).projects[0]
    i = indicator(p, "维护社会稳定")
    assert levels(i) == ("效益指标", "社会效益指标")
    assert (i.annual.raw, i.annual.comparator, i.annual.low, i.annual.unit) == ("≥95%", "≥", Decimal(95), "%")
    # the printed parts are kept too, with the weight and the direction
    assert (i.nature, i.measure_unit, i.weight, i.direction) == ("≥", "%", "10", "正向指标")
    assert indicator(p, "按时发放").annual.raw == "≥1人/年"
    assert indicator(read(PIPES).projects[1], "行政村数量").annual.raw == "=11个"


CHANGCHUN = str(TARGETS / "changchun-xinfangju-2026-project-targets-p16.pdf")


def test_pdf_table_of_several_projects_with_explanations_and_weights():
    doc = read(CHANGCHUN)
    assert [(p.name, p.amount.printed, p.amount.unit) for p in doc.projects] == [
        ("2026年信访专项经费", "30.00", "万元"), ("2026年信访接待中心运行费", "116.00", "万元"),
        ("2026年驻京经费", "312.00", "万元"), ("信访局临聘人员经费", "16.56", "万元")]
    p = doc.projects[0]
    assert (p.implementing_unit, p.unit_code) == ("长春市信访局", "105001")
    assert p.annual_goal.startswith("1、全年确保网络专线连接畅通，维护社会稳定；")
    assert [len(x.indicators) for x in doc.projects] == [4, 4, 4, 4]
    i = indicator(p, "信访信息系统运维成本")
    assert levels(i) == ("成本指标", "经济成本指标")
    assert (i.annual.raw, i.weight, i.explanation) == ("<=17万元", "20", "信访信息系统运维成本")
    assert indicator(p, "专家评审").explanation.startswith("为进一步推进信访事项复查复核工作规范开展")


# -- one project per table ------------------------------------------------------------------------

QUANZHOU = str(TARGETS / "quanzhou-gonganju-2026-project-targets-p26-29.pdf")


def test_name_from_a_title_wrapped_over_two_lines():
    doc = read(QUANZHOU)
    # 301007_泉州市公安局晋江国际机场分局_机场公安综 / 合修缮改造项目绩效目标表; 科技兴警绩效 / 目标表
    assert [(p.name, p.unit_code, p.implementing_unit, p.amount.yuan) for p in doc.projects] == [
        ("机场公安综合修缮改造", "301007", "泉州市公安局晋江国际机场分局", Decimal("570000.00")),
        ("全国民航反电诈中心建设", "301007", "泉州市公安局晋江国际机场分局", Decimal("475000.00")),
        ("科技兴警", "301008", "泉州市公安局台商投资区分局", Decimal("2375000.00")),
        ("台商公安办案业务及其他经费补助", "301008", "泉州市公安局台商投资区分局", Decimal("3325000.00"))]
    p = doc.projects[2]
    assert [(i.text, *levels(i), i.annual.raw) for i in p.indicators] == [
        ("资金使用率", "成本指标", "经济成本指标", "100%"),
        ("项目完成时效性", "产出指标", "时效指标", "1年"),
        ("执法执勤车辆采购数量", "产出指标", "数量指标", "3辆"),
        ("提高办案效能", "产出指标", "质量指标", "5%"),
        ("特定类型案件预警劝阻成功率提升", "效益指标", "经济效益指标", "5%"),
        ("重点区域管控效能提升率", "效益指标", "社会效益指标", "5%"),
        ("一线民警对装备/系统易用性、实用性满意度", "满意度指标", "服务对象满意度指标", "95%")]
    assert p.overall_goal == "深化科技兴警战略，提升公安机关新质战斗力。"


XINFANG = str(TARGETS / "guojia-xinfangju-2026-project-targets-p30-32.pdf")


def test_scores_kept_and_a_score_column_never_joins_the_target():
    doc = read(XINFANG)
    assert [(p.name, p.amount.printed, len(p.indicators)) for p in doc.projects] == [
        ("信息化运行维护", "2,134.87", 9), ("信访综合保障经费", "2,706.79", 11), ("信访业务培训", "118.01", 9)]
    # 分值（90） and, in the next tables, 分值权重（90）: a column of its own
    i = indicator(doc.projects[1], "项目成本控制")
    assert (i.annual.raw, i.score) == ("≤2706.79万元", "20")
    assert (indicator(doc.projects[0], "数据中心设备维护量").annual.raw, indicator(doc.projects[0], "数据中心设备维护量").score) == ("≥330台（套）", "8")


FENGJIE = str(REAL / "18-fengjie-yunwu-2023-project-perf-approval-web_TRUNCATED.txt")


def test_level_names_with_score_ranges_and_a_web_copy_with_single_spaces():
    doc = read(FENGJIE)
    (p,) = doc.projects
    assert (p.name, p.amount.yuan, p.amount.unit, p.total_funds.yuan) == (
        "2023年云雾土家族乡加工园配套设施建设项目", Decimal(650000), "万元", Decimal(650000))
    assert (p.implementing_unit, p.competent_department, p.start_year, p.end_year) == ("云雾土家族乡", "县民宗委", 2023, 2024)
    # 年度主要目标 / 和成果: one label whose two halves the copy printed apart
    assert p.annual_goal.startswith("新建中药材晾晒房一座")
    (i,) = p.indicators  # the copy is cut off inside 产出指标: 数量指 is not an indicator
    assert (i.text, *levels(i), i.level1_score, i.annual.raw, i.score) == (
        "项目建设成本", "成本指标", "经济成本指标", "(0-20)分", "≤65万元", "10")


# -- pdftotext -layout: merged cells printed in the middle of their rows --------------------------

def test_layout_text_reads_like_the_pdf():
    for stem in ("10-quanzhou-shichangjianguan-jiance-zhongxin-2026-unit-budget", "11-yantai-minzheng-2026-dept-budget"):
        txt, pdf = read(str(REAL / f"{stem}.txt")), read(str(REAL / f"{stem}.pdf"))

        def rows(doc):
            # extraction differs only in the spaces inside a target (= 1 年 / =1年)
            return [(p.name, p.amount.yuan, [(i.text, *levels(i), re.sub(r"\s", "", i.annual.raw)) for i in p.indicators])
                    for p in doc.projects]

        assert rows(txt) == rows(pdf)


def test_wrapped_level_names_and_page_numbers_in_layout_text():
    doc = read(str(REAL / "10-quanzhou-shichangjianguan-jiance-zhongxin-2026-unit-budget.txt"))
    (p,) = doc.projects
    # 经济成本指 / 标 and 服务对象满 / 意度指标 printed over two lines; the page number 19 above is no row
    assert [(i.text, *levels(i)) for i in p.indicators] == [
        ("预算控制率", "成本指标", "经济成本指标"), ("项目建设时间", "产出指标", "时效指标"),
        ("设计方案达标数", "产出指标", "数量指标"), ("项目工程质量", "产出指标", "质量指标"),
        ("项目采用材料应符合环保要求", "效益指标", "生态效益指标"),
        ("对项目建设情况的满意度", "满意度指标", "服务对象满意度指标")]
    yantai = read(str(REAL / "11-yantai-minzheng-2026-dept-budget.txt"))
    texts = [i.text for p in yantai.projects for i in p.indicators]
    assert not [t for t in texts if re.fullmatch(r"[-—\s\d]+", t)]  # — 34— between tables is never a row
    p = project(yantai, "实施公车统管费用", "5.00")
    # 实施单位 with its value printed above and below it (烟台市社会救助综合服务 / 中心)
    assert p.implementing_unit == "烟台市社会救助综合服务中心"


def test_a_table_extracted_column_by_column_keeps_its_indicators_without_guessing_levels():
    doc = read(str(REAL / "11-yantai-minzheng-2026-dept-budget.raw.txt"))
    p = project(doc, "民政业务工作经费")
    assert len(p.indicators) == 15
    i = indicator(p, "公务接待次数")
    # the level column came after the rows: which level heads which row is lost, so it is not invented
    assert (levels(i), i.annual.raw) == (("未注明一级指标", "未注明二级指标"), "46次")
    assert p.overall_goal is None and p.amount.printed == "176.00"


# -- a list of projects with goals and no indicator grid --------------------------------------------

@pytest.mark.parametrize("ext", ["txt", "pdf"])
def test_goal_list_one_project_per_row(ext):
    doc = read(str(REAL / f"15-huzhou-tuiyijunren-2026-dept-budget.{ext}"))
    assert [(p.name, p.amount.printed) for p in doc.projects] == [
        ("军供保障", "35.00"), ("退役军人事务服务管理", "2.37"), ("革命烈士纪念及保护", "166.50"),
        ("军休服务管理", "2,596.40"), ("拥军优抚与褒扬纪念", "409.00"), ("移交安置与思想政治权益维护", "1,010.47"),
        ("退役军人事务综合业务管理", "432.17")]
    p = doc.projects[0]
    # the heading prints only 万元 beside the department (511-退役军人事务局   万元)
    assert (p.amount.yuan, p.amount.unit, p.implementing_unit) == (Decimal("350000.00"), "万元", "湖州市军用饮食供应和供水站")
    assert p.overall_goal.startswith("面向部队，给过境和训练部队提供饮食，饮食达标，安全卫生。")
    assert p.overall_goal.endswith("为过往部队提供优质的军供保障服务。")
    assert all(not x.indicators for x in doc.projects)


# -- 绩效自评表 -------------------------------------------------------------------------------------

NINGDE = str(TARGETS / "ningde-zhengfuban-2024-department-self-evaluation.pdf")


def test_department_self_evaluation_targets_beside_values_achieved():
    doc = read(NINGDE)
    assert (doc.unit_name, doc.year, doc.refusal) == ("宁德市人民政府办公室", 2024, None)
    (se,) = doc.self_evaluations
    assert (se.subject, se.name, se.unit_name, se.year) == ("department", "127部门整体", "宁德市人民政府办公室", 2024)
    assert (se.execution_rate, se.budget_score, se.budget_self_score) == ("88.75", "10", "7")
    assert (se.total_score, se.grade) == ("92.33", "优（S≧90）")
    assert se.planned_goal == "经宁德市委市政府批准，设立各项经费项目，按照年度工作计划，有序开展工作，保障本办各项工作顺利开展。"
    assert se.achieved_goal == "按照年度工作计划，有序开展工作，保障本办各项工作顺利开展。"
    assert len(se.indicators) == 17
    i = indicator(se, "基本经费投入成本")
    assert (levels(i), i.annual.raw, i.actual.raw, i.score, i.self_score) == (
        ("成本指标", "经济成本指标"), "≤3843.67万元", "4262.96", "4", "0")
    assert i.deviation == "年中追加预算经费，实际支出超过年初预算安排。"
    i = indicator(se, "市政府常务会议场次")
    assert (levels(i), i.annual.raw, i.actual.raw, i.self_score) == (("产出指标", "数量指标"), "≥30次", "20", "1.33")


def test_self_evaluation_amounts_without_a_unit_are_not_read():
    doc = read(NINGDE)
    (se,) = doc.self_evaluations
    # 9209.55 / 9999.77 / 8874.74 are printed with no 元/万元 anywhere in the document
    assert (se.budget, se.adjusted, se.executed) == (None, None, None)
    assert any("not read" in w and "9209.55" in w for w in doc.warnings)


def test_target_vs_achieved_is_a_sparql_query():
    from ingest.mapping import map_document

    g = map_document(read(NINGDE)).graph
    rows = {str(r.name): (str(r.t), str(r.a), r.s.toPython(), r.got.toPython()) for r in g.query("""
        PREFIX bkg: <https://w3id.org/budgetkg/def#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?name ?t ?a ?s ?got WHERE {
          ?e a bkg:SelfEvaluation ; bkg:evaluationSubject "department" ; bkg:hasIndicator ?i .
          ?i rdfs:label ?name ; bkg:annualTarget ?t ; bkg:actualValue ?a ; bkg:indicatorScore ?s ; bkg:selfScore ?got }""")}
    assert len(rows) == 17
    assert rows["物业考评合格率"] == ("≥95%", "95", Decimal(5), Decimal(5))
    assert rows["市政府常务会议场次"] == ("≥30次", "20", Decimal(2), Decimal("1.33"))


def test_pipe_table_columns_mapped_as_properties():
    from ingest.mapping import map_document

    g = map_document(read(PIPES)).graph
    (row,) = g.query("""
        PREFIX bkg: <https://w3id.org/budgetkg/def#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?t ?w ?d ?n ?u ?code WHERE { ?p rdfs:label "村组干部报酬" ; bkg:implementingUnitCode ?code ; bkg:hasIndicator ?i .
          ?i rdfs:label "维护社会稳定" ; bkg:annualTarget ?t ; bkg:indicatorWeight ?w ; bkg:indicatorDirection ?d ;
             bkg:indicatorNature ?n ; bkg:measurementUnit ?u }""")
    assert (str(row.t), row.w.toPython(), str(row.d), str(row.n), str(row.u), str(row.code)) == (
        "≥95%", Decimal(10), "正向指标", "≥", "%", "820001")


# -- 实施期 / 年度 targets side by side ---------------------------------------------------------------

def test_side_by_side_period_and_annual_targets():
    doc = read(str(SEEDS / "dongguan-dongkeng-2024-project-performance-targets.txt"))
    i = indicator(project(doc, "综合工作经费（常）"), "办公用品验收合格率（%）")
    assert (i.period.raw, i.annual.raw) == ("≥95%", "≥95%")
    assert levels(i) == ("产出指标", "质量指标")
