"""Facts that must come out of the bundled documents exactly, asked through SPARQL as a data team
would. One test per layout feature; numbers are read off the documents by hand."""
from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import SEEDS

QX = "东莞市清溪镇政务服务中心"
DK = "东莞市东坑镇政务服务中心"
NC = "东莞市南城政务服务中心"
ST = "东莞市沙田镇政务服务中心"
YD = "永登县政务服务中心"


def rows(store, q):
    return list(store.select(q))


def one(store, q):
    r = rows(store, q)
    assert len(r) == 1, r
    return r[0]


def project(store, unit, name):
    return one(store, f"""
        SELECT ?p ?amount ?printed ?unit ?year ?type ?start ?end ?overall ?annual (COUNT(?i) AS ?n) WHERE {{
          ?p a bkg:Project ; rdfs:label "{name}" ; bkg:budgetUnit/rdfs:label "{unit}" ;
             bkg:amount ?amount ; bkg:amountPrinted ?printed ; bkg:amountUnit ?unit .
          OPTIONAL {{ ?p bkg:fiscalYear ?year }} OPTIONAL {{ ?p bkg:projectType ?type }}
          OPTIONAL {{ ?p bkg:startYear ?start }} OPTIONAL {{ ?p bkg:endYear ?end }}
          OPTIONAL {{ ?p bkg:overallGoal ?overall }} OPTIONAL {{ ?p bkg:annualGoal ?annual }}
          OPTIONAL {{ ?p bkg:hasIndicator ?i }}
        }} GROUP BY ?p ?amount ?printed ?unit ?year ?type ?start ?end ?overall ?annual""")


def indicator(store, project_iri, text):
    return one(store, f"""
        SELECT ?l1 ?l2 ?annual ?period ?cmp ?max ?unitText ?line WHERE {{
          <{project_iri}> bkg:hasIndicator ?i . ?i rdfs:label "{text}" ;
             bkg:level1/skos:prefLabel ?l1 ; bkg:level2/skos:prefLabel ?l2 ; bkg:lineStart ?line .
          OPTIONAL {{ ?i bkg:annualTarget ?annual }} OPTIONAL {{ ?i bkg:periodTarget ?period }}
          OPTIONAL {{ ?i bkg:annualTargetValue ?v . ?v bkg:comparator ?cmp .
                     OPTIONAL {{ ?v schema:maxValue ?max }} OPTIONAL {{ ?v schema:unitText ?unitText }} }}
        }}""")


def test_27_projects_across_5_units(samples_store):
    r = one(samples_store, "SELECT (COUNT(DISTINCT ?p) AS ?n) (COUNT(DISTINCT ?u) AS ?u) WHERE { ?p a bkg:Project ; bkg:budgetUnit ?u }")
    assert (r["n"], r["u"]) == ("27", "4")  # 沙田 has no project table, only department-wide targets
    units = {x["l"] for x in rows(samples_store, "SELECT DISTINCT ?l WHERE { ?x bkg:budgetUnit ?u . ?u rdfs:label ?l . { ?x a bkg:Project } UNION { ?x a bkg:DepartmentTarget } }")}
    assert units == {QX, DK, NC, ST, YD}
    per_unit = {x["l"]: x["n"] for x in rows(samples_store, "SELECT ?l (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project ; bkg:budgetUnit/rdfs:label ?l } GROUP BY ?l")}
    assert per_unit == {QX: "8", DK: "6", NC: "9", YD: "4"}


def test_qingxi_rental_project(samples_store):
    p = project(samples_store, QX, "专用设备租赁费支出")
    assert Decimal(p["amount"]) == Decimal("432000.00")
    assert p["printed"] == "432, 000. 00" and p["unit"] == "元"
    assert (p["n"], p["year"], p["start"], p["end"]) == ("6", "2024", "2022", "2099")
    assert p["type"] == "其他运转类（综合类）"  # full-width brackets kept as printed
    assert p["annual"].startswith("“莞家政务”租赁费1.8万/台/年")
    i = indicator(samples_store, p["p"], "报障后维护人员到场时间")
    assert (i["l1"], i["l2"], i["annual"]) == ("产出指标", "时效指标", "≤24小时")
    assert i["cmp"] == "≤" and Decimal(i["max"]) == 24 and i["unitText"] == "小时"
    assert i["line"] == "426"


def test_yongdeng_wan_yuan_and_single_value_column(samples_store):
    p = project(samples_store, YD, "政务大厅云桌面租用经费")
    assert Decimal(p["amount"]) == Decimal(30000) and p["printed"] == "3" and p["unit"] == "万元"
    assert p["n"] == "10" and p["year"] == "2024"
    i = indicator(samples_store, p["p"], "企业和群众到政府办事的满意度")
    assert (i["l1"], i["l2"], i["annual"], i["period"]) == ("满意度指标", "服务对象满意度指标", "≥90%", None)
    # a 二级 name the standard does not know is kept as printed, marked non-standard
    i = indicator(samples_store, p["p"], "成本控制")
    assert (i["l1"], i["l2"]) == ("成本指标", "成本控制")
    std = one(samples_store, f"""SELECT ?s WHERE {{ <{p['p']}> bkg:hasIndicator ?i . ?i rdfs:label "成本控制" ; bkg:level2/bkg:standard ?s }}""")
    assert std["s"] == "false"


def test_key_tasks(samples_store):
    counts = {x["l"]: (x["n"], x["opt"]) for x in rows(samples_store, """
        SELECT ?l (COUNT(?k) AS ?n) (SUM(IF(?o, 1, 0)) AS ?opt) WHERE {
          ?t a bkg:DepartmentTarget ; bkg:budgetUnit/rdfs:label ?l ; bkg:hasKeyTask ?k . ?k bkg:optional ?o }
        GROUP BY ?l""")}
    assert counts == {NC: ("4", "0"), ST: ("8", "1")}
    task = one(samples_store, """SELECT ?amount ?content WHERE { ?k a bkg:KeyTask ; rdfs:label "“莞家政务”自助终端机铺设工作" ; bkg:amount ?amount ; bkg:content ?content }""")
    assert Decimal(task["amount"]) == Decimal("457080.00") and "25个党群服务中心" in task["content"]
    opt = one(samples_store, """SELECT ?name ?content WHERE { ?k a bkg:KeyTask ; bkg:optional true ; rdfs:label ?name ; bkg:content ?content }""")
    assert opt["name"] == "打造“莞爱”政务服务大厅"
    # the optional task's content continues across a page break and is joined
    assert opt["content"].startswith("在政务服务大厅营造“莞爱”氛围") and "为儿童提供公益活动" in opt["content"]
    assert not rows(samples_store, "SELECT ?k WHERE { ?k a bkg:KeyTask ; bkg:optional true ; bkg:amount ?a }")


def test_shatian_states_no_year(samples_store):
    assert not rows(samples_store, f"""SELECT ?y WHERE {{ ?t a bkg:DepartmentTarget ; bkg:budgetUnit/rdfs:label "{ST}" ; bkg:fiscalYear ?y }}""")
    assert not rows(samples_store, f"""SELECT ?y WHERE {{ ?d a bkg:Document ; bkg:budgetUnit/rdfs:label "{ST}" ; bkg:fiscalYear ?y }}""")


def test_function_code_amounts_and_hierarchy(samples_store):
    amounts = {x["a"] for x in rows(samples_store, f"""
        SELECT ?a WHERE {{ ?l a bkg:BudgetLine ; bkg:classification ?c ; bkg:amount ?a ; bkg:budgetUnit/rdfs:label "{QX}" .
                          ?c skos:notation "2080104" ; skos:inScheme bkg:FunctionalClassification }}""")}
    assert {Decimal(a) for a in amounts} == {Decimal(5217000)}
    printed = {x["p"] for x in rows(samples_store, f"""SELECT ?p WHERE {{ ?l bkg:classification/skos:notation "2080104" ; bkg:amountPrinted ?p ; bkg:budgetUnit/rdfs:label "{QX}" }}""")}
    assert printed == {"521.70"}
    chain = one(samples_store, """SELECT ?k ?kl ?l ?ll ?name WHERE {
        ?c skos:notation "2080104" ; skos:prefLabel ?name ; skos:broader ?k . ?k skos:notation ?kl ; skos:broader ?l . ?l skos:notation ?ll .
        ?l skos:topConceptOf bkg:FunctionalClassification }""")
    assert (chain["kl"], chain["ll"], chain["name"]) == ("20801", "208", "综合业务管理")


def test_economic_codes_and_variants(samples_store):
    c = one(samples_store, """SELECT ?c ?pref ?broader WHERE { ?c skos:notation "30213" ; skos:inScheme bkg:EconomicClassification ;
                                skos:prefLabel ?pref ; skos:broader/skos:notation ?broader }""")
    assert c["pref"] == "维修（护）费" and c["broader"] == "302"
    alts = {x["a"] for x in rows(samples_store, f"SELECT ?a WHERE {{ <{c['c']}> skos:altLabel ?a }}")}
    assert "维修(护)费" in alts  # the Shanghai layout prints ASCII brackets: kept as a variant


def test_split_codes_and_glued_codes(samples_store):
    # pdftotext -layout prints 204 06 01 in three columns
    r = rows(samples_store, """SELECT ?a ?doc WHERE { ?l bkg:classification/skos:notation "2040601" ; bkg:amount ?a ;
                 bkg:sourceDocument/bkg:sourceFile ?doc ; bkg:inTable/rdfs:label "2026年部门支出预算总表" }""")
    assert [Decimal(x["a"]) for x in r] == [Decimal("16726725.44")]
    # 石泉路: 2010507专项普查活动 500,000 (code glued to its name, thousands separators)
    r = one(samples_store, """SELECT ?a ?name WHERE { ?l bkg:classification ?c ; bkg:amount ?a ; bkg:printedName ?name ;
                 bkg:inTable/rdfs:label "2026年预算单位支出预算总表" . ?c skos:notation "2010507" }""")
    assert Decimal(r["a"]) == 500000 and r["name"] == "专项普查活动"


def test_several_rows_on_one_extracted_line(samples_store):
    # "90,000 90,000 20138 市场监督管理事务 225,872 225,872" — a row glued to the end of the previous one
    r = rows(samples_store, """SELECT ?a WHERE { ?l bkg:classification/skos:notation "20138" ; bkg:amount ?a ;
                 bkg:inTable/rdfs:label "2026年预算单位收入预算总表" }""")
    assert [Decimal(x["a"]) for x in r] == [Decimal(225872)]


def test_regions(samples_store):
    chains = {x["u"]: (x["r"], x["p"], x["pp"]) for x in rows(samples_store, """
        SELECT ?u ?r ?p ?pp WHERE { ?x bkg:budgetUnit ?unit . ?unit rdfs:label ?u ; bkg:region ?reg . ?reg rdfs:label ?r .
          OPTIONAL { ?reg bkg:partOf ?par . ?par rdfs:label ?p OPTIONAL { ?par bkg:partOf/rdfs:label ?pp } } }""")}
    assert chains[QX] == ("清溪镇", "东莞市", "广东省")
    assert chains[NC] == ("南城街道", "东莞市", "广东省")  # 南城 has no suffix in the unit name: the title says 街道
    assert chains[YD] == ("永登县", "兰州市", "甘肃省")
    assert chains["上海市普陀区司法局"] == ("普陀区", "上海市", None)
    assert chains["上海市普陀区人民政府石泉路街道办事处"] == ("石泉路街道", "普陀区", "上海市")


def test_key_project_list_linked_and_says_so(samples_store):
    r = one(samples_store, """SELECT ?p ?note ?a WHERE { ?e a bkg:KeyProjectEntry ; rdfs:label "政务服务中心停车场建设" ;
                                 bkg:amount ?a ; bkg:refersTo ?p ; bkg:matchNote ?note }""")
    name = one(samples_store, f"SELECT ?n WHERE {{ <{r['p']}> rdfs:label ?n }}")["n"]
    assert name == "政务服务中心院内停车场建设"
    assert "name differs" in r["note"] and "院内" in r["note"]
    assert Decimal(r["a"]) == Decimal(462300)
    linked = one(samples_store, "SELECT (COUNT(?e) AS ?n) WHERE { ?e a bkg:KeyProjectEntry ; bkg:refersTo ?p }")
    assert linked["n"] == "8"


def test_shifted_and_duplicated_rows_dongkeng(samples_store):
    p = project(samples_store, DK, "综合窗口服务外包")
    assert p["n"] == "10"  # the duplicated 采购服务质量达标率 row counts once
    i = indicator(samples_store, p["p"], "持续推动政务服务工作的稳定运转")  # text landed in the 一级 column
    assert (i["l1"], i["l2"], i["annual"], i["period"]) == ("效益指标", "可持续影响指标", "短期推动", "短期推动")
    p = project(samples_store, DK, "“一网统管”试点专题项目")
    i = indicator(samples_store, p["p"], "系统设计使用年限")  # whole row shifted left by two cells
    assert (i["l1"], i["l2"], i["annual"]) == ("效益指标", "可持续影响指标", "≥10年")
    i = indicator(samples_store, p["p"], "预算执行率（%）")  # 成本指标 printed in the 一级 column of an older template
    assert (i["l1"], i["l2"]) == ("产出指标", "成本指标")
    assert Decimal(p["amount"]) == 1860000 and p["printed"] == "1860000"


def test_nancheng_levels_in_wrong_columns(samples_store):
    t = one(samples_store, f"""SELECT ?t WHERE {{ ?t a bkg:DepartmentTarget ; bkg:budgetUnit/rdfs:label "{NC}" }}""")["t"]
    levels = {x["n"]: (x["l1"], x["l2"], x["a"], x["p"]) for x in rows(samples_store, f"""
        SELECT ?n ?l1 ?l2 ?a ?p WHERE {{ <{t}> bkg:hasIndicator ?i . ?i rdfs:label ?n ; bkg:level1/skos:prefLabel ?l1 ;
          bkg:level2/skos:prefLabel ?l2 . OPTIONAL {{ ?i bkg:annualTarget ?a }} OPTIONAL {{ ?i bkg:periodTarget ?p }} }}""")}
    assert levels["信息化服务水平"] == ("效益指标", "社会效益指标", "有效提升", None)
    assert levels["业务和服务水平"][:2] == ("效益指标", "社会效益指标")
    assert levels["人均伙食补贴标准"][:2] == ("成本指标", "经济成本指标")
    assert levels["热线服务满意度"][:2] == ("满意度指标", "服务对象满意度指标")
    assert len(levels) == 27 and "项目绩效目标表" not in levels
    p = project(samples_store, NC, "南城政务服务大厅品质提升工程")
    # 服务对象满意度 printed twice: once as the 二级, once as the 三级 indicator
    i = indicator(samples_store, p["p"], "服务对象满意度")
    assert (i["l1"], i["l2"], i["annual"]) == ("满意度指标", "服务对象满意度指标", "≥90%")


def test_every_entity_points_to_its_source_lines(samples_store):
    missing = rows(samples_store, """SELECT ?x WHERE { { ?x a bkg:Project } UNION { ?x a bkg:PerformanceIndicator }
        UNION { ?x a bkg:KeyTask } UNION { ?x a bkg:BudgetLine }
        FILTER NOT EXISTS { ?x bkg:sourceDocument/bkg:sha256 ?h ; bkg:lineStart ?s ; bkg:lineEnd ?e } }""")
    assert not missing
    span = one(samples_store, """SELECT ?s ?e ?f WHERE { ?p a bkg:Project ; rdfs:label "伙食补助费" ; bkg:lineStart ?s ; bkg:lineEnd ?e ;
                                   bkg:sourceDocument/bkg:sourceFile ?f }""")
    lines = (SEEDS / span["f"]).read_text(encoding="utf-8").splitlines()
    assert "伙食补助费" in lines[int(span["s"]) - 1]
    assert "服务对象满意度" in lines[int(span["e"]) - 1]


def test_amounts_are_exact_decimals(samples_store):
    r = rows(samples_store, "SELECT ?a WHERE { ?x bkg:amount ?a FILTER(DATATYPE(?a) != xsd:decimal) }")
    assert not r
    p = project(samples_store, QX, "服务外包经费（政务服务）")
    assert Decimal(p["amount"]) == Decimal("1938609.21")


def test_project_descriptions(samples_store):
    r = one(samples_store, """SELECT ?a ?u WHERE { ?x a bkg:ProjectDescription ; rdfs:label "人民调解项目" ; bkg:amount ?a ;
                                bkg:budgetUnit/rdfs:label ?u }""")
    assert Decimal(r["a"]) == 7950000 and r["u"] == "上海市普陀区司法局"
    r = one(samples_store, """SELECT ?p WHERE { ?x a bkg:ProjectDescription ; bkg:refersTo ?p ; bkg:amount ?a }""")
    assert one(samples_store, f"SELECT ?n WHERE {{ <{r['p']}> rdfs:label ?n }}")["n"] == "行政审批系统和电子监察系统线路（政务专网）租用费"


@pytest.mark.parametrize("unit,year,kind", [
    (QX, "2024", "部门预算"), (DK, "2024", "绩效目标表"), (NC, "2026", "绩效目标表"), (ST, None, "绩效目标表"),
    (YD, "2024", "单位预算"), ("上海市普陀区司法局", "2026", "部门预算"), ("上海市普陀区司法局", "2026", "单位预算"),
    ("上海市普陀区人民政府石泉路街道办事处", "2026", "单位预算"),  # the organisation: （本级） is the scope
])
def test_documents(samples_store, unit, year, kind):
    r = one(samples_store, f"""SELECT ?d ?y WHERE {{ ?d a bkg:Document ; bkg:documentKind "{kind}" ; bkg:budgetUnit/rdfs:label "{unit}" .
                                 OPTIONAL {{ ?d bkg:fiscalYear ?y }} }}""")
    assert r["y"] == year
