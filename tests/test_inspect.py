"""`budgetkg inspect`: what a document holds and why it was read so, without a store, on real
documents (a text budget, a ruled-table PDF, a scan and a narrative-only budget that are refused)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
QINGXI = ROOT / "samples" / "seeds" / "dongguan-qingxi-2024-department-budget.txt"
ZHUHAI = FIXTURES / "bulk" / "076_珠海_财政局_2026年部门预算.pdf"
SCAN = FIXTURES / "bulk" / "044_济南_规划和自然资源局_政府信息公开申请办理流程图.pdf"
NARRATIVE = FIXTURES / "real" / "04-jiangsu-renda-bangongting-2019-dept-budget-narrative.txt"

REPORT_KEYS = {"version", "file", "sha256", "encoding", "pages", "lines", "kind", "stage", "title", "unit", "region",
               "year", "money_units", "stored", "refusal", "refusal_line", "tables", "counts", "checks", "warnings"}
TABLE_KEYS = {"kind", "kind_label", "title", "number", "stage", "pages", "lines", "status", "rows", "reason"}
COUNT_KEYS = {"tables_read", "tables_empty", "tables_skipped", "tables_not_read", "projects", "projects_with_indicators",
              "indicators", "key_tasks", "budget_lines", "key_project_entries"}
FINDING_KEYS = {"document", "check", "subject", "ok", "expected", "actual", "diff", "tolerance", "lines"}


def inspect(*args: str, data: Path | None = None) -> subprocess.CompletedProcess:
    pre = ["--data", str(data)] if data else []
    return subprocess.run([sys.executable, "-m", "api", *pre, "inspect", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


def test_human_report_of_a_budget_shows_tables_counts_and_checks(tmp_path):
    data = tmp_path / "data"
    run = inspect(str(QINGXI), data=data)
    assert run.returncode == 0 and run.stderr == ""
    out = run.stdout
    assert "would be stored" in out
    assert "unit 东莞市清溪镇政务服务中心 · region 广东省 › 东莞市 › 清溪镇 · year 2024" in out
    assert "kind 部门预算 · stage 预算" in out and "money units 万元/元" in out
    assert "8 projects (8 with indicators), 48 indicators, 0 key tasks, 65 budget lines, 8 重点项目 entries" in out
    # each table with its kind, title as printed and lines, as the JSON report has them
    tables = json.loads(inspect(str(QINGXI), "--json").stdout)["tables"]
    rows = [ln for ln in out.splitlines() if "一般公共预算支出情况表（按功能分类科目）" in ln]
    t = next(t for t in tables if t["title"] == "一般公共预算支出情况表（按功能分类科目）")
    assert len(rows) == 1 and "一般公共预算支出表" in rows[0] and f"{t['lines'][0]}–{t['lines'][1]}" in rows[0]
    assert " read " in rows[0] and f" {t['rows']} " in rows[0]
    # a kind no reader takes says so
    assert "no reader for 三公经费表 tables" in out
    # the document's own printing error, with the line to look at
    assert ("DIFF 收入总计 = 本年收入合计 + 上年结转等: 收支总体情况表: computed 0.00 元 vs printed 9,928,500.00 元, "
            "differs by -9,928,500.00 元 (lines 68)") in out
    assert "1 DIFF" in out
    assert not data.exists()  # no store was touched


def test_json_report_of_a_pdf_has_the_documented_shape():
    run = inspect(str(ZHUHAI), "--json")
    assert run.returncode == 0
    r = json.loads(run.stdout)
    assert set(r) == REPORT_KEYS and r["version"] == 1
    assert (r["encoding"], r["pages"], r["stored"], r["refusal"]) == ("pdf", 24, True, None)
    assert (r["unit"], r["year"], r["kind"], r["stage"]) == ("珠海市政府投资交通市政项目工务中心", 2026, "部门预算", "预算")
    assert [x["name"] for x in r["region"]] == ["广东省", "珠海市"]
    assert r["money_units"] == ["万元"]
    assert set(r["counts"]) == COUNT_KEYS and r["counts"]["budget_lines"] > 0
    assert all(set(t) == TABLE_KEYS for t in r["tables"])
    summary = next(t for t in r["tables"] if t["title"] == "收支总体情况表")
    assert (summary["kind"], summary["kind_label"], summary["status"], summary["stage"]) == (
        "IncomeExpenditureSummary", "收支总表", "read", "预算")
    assert summary["pages"][0] == 4
    c = r["checks"]
    assert c["total"] == c["ok"] + c["diff"] == len(c["findings"]) and c["ok"] > 0
    assert all(set(f) == FINDING_KEYS for f in c["findings"])
    assert {"check": "收入总计 = 本年收入合计 + 上年结转等", "subject": "收支总体情况表", "ok": True,
            "expected": "75529200", "actual": "75529200"}.items() <= next(
        f for f in c["findings"] if f["check"].startswith("收入总计 = 本年")).items()


def test_text_numbers_the_lines_every_message_refers_to():
    r = json.loads(inspect(str(ZHUHAI), "--json", "--text").stdout)
    text = r["text"]
    assert [ln["no"] for ln in text] == list(range(1, len(text) + 1)) == list(range(1, r["lines"] + 1))
    assert all(ln["page"] is not None for ln in text)
    # the lines a table report names hold that table
    summary = next(t for t in r["tables"] if t["title"] == "收支总体情况表")
    a, b = summary["lines"]
    rows = [ln for ln in text[a - 1 : b] if ln["cells"][:1] == ["本年收入合计"]]
    assert rows and rows[0]["cells"][1] == "7,552.81" and rows[0]["page"] == 5 and rows[0]["grid"] is not None
    human = inspect(str(ZHUHAI), "--text").stdout.splitlines()
    no = rows[0]["no"]
    assert human[no - 1].split()[:3] == [str(no), "p5", f"#{rows[0]['grid']}"]
    assert "本年收入合计 │ 7,552.81 │ 本年支出合计 │ 7,552.92" in human[no - 1]


def test_a_scan_is_refused_with_the_reason():
    run = inspect(str(SCAN))
    assert run.returncode == 1
    assert "would be refused: scanned PDF: none of its 1 pages has a text layer (OCR it first)" in run.stdout
    r = json.loads(inspect(str(SCAN), "--json").stdout)
    assert set(r) == REPORT_KEYS
    assert (r["stored"], r["refusal"], r["tables"], r["checks"]["total"]) == (
        False, "scanned PDF: none of its 1 pages has a text layer (OCR it first)", [], 0)


def test_a_narrative_only_budget_is_refused_and_still_described():
    r = json.loads(inspect(str(NARRATIVE), "--json").stdout)
    assert r["stored"] is False
    assert r["refusal"] == "no budget table, project performance-target table or department-wide target table recognised"
    assert r["encoding"] == "utf-8-sig" or r["encoding"].startswith("utf")
    assert r["lines"] > 100 and r["tables"] == []


def test_a_missing_file_is_a_usage_error():
    run = inspect(str(ROOT / "no-such-file.pdf"))
    assert run.returncode == 2 and "no such file" in run.stderr and "Traceback" not in run.stderr


def test_inspect_loads_no_model_or_index_library():
    code = ("import sys; from typer.testing import CliRunner; from api.cli import app; "
            f"res = CliRunner().invoke(app, ['inspect', {str(QINGXI)!r}, '--json']); "
            "print(res.exit_code, sorted(m for m in ('torch', 'sentence_transformers', 'faiss', 'bm25s', 'pyoxigraph') "
            "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.stdout.strip() == "0 []", run.stderr
