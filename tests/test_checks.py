"""勾稽: the documents' own arithmetic, one set of rules for a parsed document (inspect, the
benchmark) and for the store (``budgetkg check``), on real documents."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingest.consistency import check_document, label_key, step_of
from ingest.parse import parse_file, read_document
from ingest.text import read_source

ROOT = Path(__file__).resolve().parent.parent
QINGXI = ROOT / "samples" / "seeds" / "dongguan-qingxi-2024-department-budget.txt"
#: a 部门预算 whose 收支总表 carries 0.11 万元 of 上年结转结余: 本年收入合计 7,552.81 ≠ 本年支出合计 7,552.92
ZHUHAI = ROOT / "tests" / "fixtures" / "bulk" / "076_珠海_财政局_2026年部门预算.pdf"


def findings(doc) -> dict[tuple[str, str], dict]:
    return {(f["check"], f["subject"]): f for f in (x.as_dict() for x in check_document(doc))}


def test_a_printing_error_is_the_one_diff_and_the_rest_adds_up():
    got = findings(parse_file(QINGXI))
    # the document prints 本年收入合计 0.00 above 收入总计 992.85 (万元) with no other income between
    diffs = [f for f in got.values() if not f["ok"]]
    assert diffs == [{"document": "东莞市清溪镇政务服务中心 2024年部门预算", "check": "收入总计 = 本年收入合计 + 上年结转等",
                      "subject": "收支总体情况表", "ok": False, "expected": "9928500", "actual": "0",
                      "diff": "-9928500", "tolerance": "250", "lines": [68]}]
    # its other side balances; 0.01 万元 of rounding over nine 款 is within what printing to 0.01 万元 allows
    assert got[("支出总计 = 本年支出合计 + 结转下年等", "收支总体情况表")]["ok"]
    r = got[("类 = Σ款", "一般公共预算基本支出情况表（按经济分类科目） [301]")]
    assert (r["expected"], r["actual"], r["tolerance"], r["ok"]) == ("3007100", "3007200", "450", True)
    assert r["lines"] == [206, 207, 208, 209, 210, 211, 212, 213, 214]
    # the same figure in two tables
    r = got[("收支总表 = 支出总表 合计", "收支总体情况表 本年支出合计 vs 支出总体情况表")]
    assert (r["expected"], r["actual"], r["ok"], r["lines"]) == ("9928500", "9928500", True, [68, 130])
    r = got[("财政拨款收支总表 一般公共预算 = 一般公共预算支出表 合计",
             "财政拨款收支总体情况表 一、一般公共预算 vs 一般公共预算支出情况表（按功能分类科目）")]
    assert (r["expected"], r["actual"], r["ok"]) == ("9928500", "9928500", True)
    # a project in the 重点项目 list (万元) against its performance table (元, to the fen)
    r = got[("项目清单 = 绩效目标表", "服务外包经费(政务服务) / 服务外包经费（政务服务）")]
    assert (r["expected"], r["actual"], r["diff"], r["tolerance"], r["ok"]) == ("1938600", "1938609.21", "9.21", "50.005", True)
    r = got[("项目类型合计 = 项目支出表", "其他特定目标类（基建类） (部门预算项目支出及其他支出预算表)")]
    assert (r["expected"], r["actual"], r["ok"], r["lines"]) == ("2068800", "2068800", True, [335, 571, 599])


def test_carried_over_funds_are_part_of_the_income_total():
    got = findings(read_document(read_source(ZHUHAI)))
    r = got[("收入总计 = 本年收入合计 + 上年结转等", "收支总体情况表")]
    assert (r["expected"], r["actual"], r["ok"]) == ("75529200", "75529200", True)
    r = got[("收入总计 = 支出总计", "收支总体情况表")]
    assert (r["expected"], r["actual"], r["ok"]) == ("75529200", "75529200", True)
    # the 收入总表 has a 上年结转结余 column: its 合计 is the 收入总计
    r = got[("收支总表 = 收入总表 合计", "收支总体情况表 收入总计 vs 收入总体情况表")]
    assert (r["expected"], r["actual"], r["ok"]) == ("75529200", "75529200", True)
    r = got[("财政拨款收支总表 政府性基金 = 政府性基金支出表 合计", "财政拨款收支总体情况表 二、政府性基金预算 vs 政府性基金预算支出情况表")]
    assert (r["expected"], r["actual"], r["ok"]) == ("68160000", "68160000", True)


def test_check_reads_the_same_figures_back_from_the_store(samples_store):
    """`budgetkg check` (figures from the store) and inspect (figures from the parsed document) run
    the same rules on the same figures: the same findings, document by document."""
    from ingest.checks import run_checks

    def key(f: dict) -> tuple:
        return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in f.items()))

    stored = sorted(key(f.as_dict()) for f in run_checks(samples_store))
    parsed = sorted(key(f.as_dict()) for p in sorted((ROOT / "samples").rglob("*.txt"))
                    for f in check_document(parse_file(p)))
    assert stored == parsed
    # every sample that prints budget tables is checked (the performance-target documents have no 勾稽)
    checked = {dict(f)["document"].split(" ")[0] for f in stored}
    assert checked == {"东莞市清溪镇政务服务中心", "永登县政务服务中心", "上海市普陀区司法局",
                       "上海市普陀区人民政府石泉路街道办事处（本级）"}


@pytest.mark.parametrize("printed, unit, step", [
    ("1,938,609.21", "元", Decimal("0.01")), ("920000", "元", Decimal(1)), ("992.85", "万元", Decimal(100)),
    ("37,188.34", "万元", Decimal(100)), ("15", "万元", Decimal(10000)), ("9746.5", "万元", Decimal(1000)),
])
def test_tolerance_follows_how_a_figure_was_printed(printed, unit, step):
    assert step_of(printed, unit) == step


def test_labels_match_without_numbering_spaces_or_brackets():
    assert label_key("（一）一般公共预算拨款") == "一般公共预算拨款"
    assert label_key("收 入 总 计") == "收入总计"
    assert label_key("二十四、结转下年") == "结转下年"
    assert label_key("其中：基本支出") == "基本支出"


YANTAI = ROOT / "tests" / "fixtures" / "real" / "11-yantai-minzheng-2026-dept-budget.pdf"


def test_the_project_list_agrees_with_the_target_tables_and_the_store_says_the_same(tmp_path):
    """烟台市民政局: a 项目支出预算情况表 (万元) beside one 绩效目标表 per project; the list prints
    实施公车统管费用 three times (本级 20.00, and 3.00 / 5.00 under units it does not name)."""
    from ingest.checks import run_checks
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    doc = read_document(read_source(YANTAI))
    got = findings(doc)
    listed = {s: f for (c, s), f in got.items() if c == "项目支出表 = 绩效目标表"}
    assert listed and all(f["ok"] for f in listed.values())
    r = listed["民政业务工作经费 / 民政业务工作经费"]
    assert (r["expected"], r["actual"], r["tolerance"]) == ("1760000", "1760000", "100")
    r = listed["实施公车统管费用 / 实施公车统管费用 (the closest of 3 rows of that name)"]
    assert (r["expected"], r["actual"]) == ("200000", "200000")
    # the 基本支出 tables are cross-coded (部门预算 301 beside 政府预算 501 / 505): 301 is printed once per
    # 政府 类, each with its own 款; a line is grouped by both codes, and the table's 类 rows add up
    basic = "一般公共预算基本支出情况表"
    assert [(s.split(" ")[1], f["expected"], f["actual"]) for (c, s), f in got.items()
            if c == "类 = Σ款" and s.startswith(basic)] == [
        ("[301×501]", "7675400", "7675600"), ("[301×505]", "17089500", "17089400"), ("[302×502]", "1014600", "1014600"),
        ("[302×505]", "1163700", "1163700"), ("[303×509]", "2953900", "2954000")]
    r = got[("表合计 = Σ类", basic)]
    assert (r["expected"], r["actual"], r["lines"]) == ("29897100", "29897100", [313, 322, 333, 345, 364])
    assert [f for f in got.values() if not f["ok"]] == []
    store = open_store(tmp_path / "data")
    try:
        assert [o.status for o in ingest_paths(store, [YANTAI], workers=1)] == ["added"]
        stored = sorted(tuple(sorted((k, str(v)) for k, v in f.as_dict().items())) for f in run_checks(store))
    finally:
        store.close()
    parsed = sorted(tuple(sorted((k, str(v)) for k, v in f.items())) for f in (x.as_dict() for x in check_document(doc)))
    assert stored == parsed
