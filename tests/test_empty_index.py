"""No traceback on any ingest: a store with nothing searchable leaves a valid, empty index that says
so, and searching it returns no results (through the real CLI, in fresh data directories)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
#: a scanned flow chart filed beside budgets: no text layer, refused
SCAN = FIXTURES / "bulk" / "044_济南_规划和自然资源局_政府信息公开申请办理流程图.pdf"
#: a unit budget of budget tables only: no project, indicator or key task, its budget lines to search
BUDGET_LINES_ONLY = ROOT / "samples" / "extra" / "shanghai-putuo-justice-bureau-2026-unit-budget.txt"


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api", "--data", str(data), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ))


def manifest(data: Path) -> dict:
    return json.loads((data / "index" / "manifest.json").read_text(encoding="utf-8"))


def test_first_document_refused_leaves_an_empty_index(tmp_path):
    data = tmp_path / "data"
    run = cli(data, "ingest", str(SCAN))
    assert "Traceback" not in run.stderr
    assert run.returncode == 1  # the refused file is an error, the run itself is not
    assert f"ERROR {SCAN}: scanned PDF: none of its 1 pages has a text layer" in run.stderr
    assert "index is empty: the store holds no document yet" in run.stderr
    m = manifest(data)
    assert (m["items"], m["documents"]) == (0, {})
    search = cli(data, "search", "自助终端 租赁", "--json")
    assert search.returncode == 0 and "Traceback" not in search.stderr
    assert json.loads(search.stdout) == []


def test_budget_lines_only_are_searched_as_lines(tmp_path):
    """A unit budget of budget tables only: its coded lines are the searchable items (kind line)."""
    data = tmp_path / "data"
    run = cli(data, "ingest", str(BUDGET_LINES_ONLY))
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "0 projects, 0 indicators, 0 key tasks, 92 budget lines" in run.stdout
    assert "index is empty" not in run.stderr
    m = manifest(data)
    assert (m["items"], m["lines"], m["projects"]) == (92, 92, 0) and len(m["documents"]) == 1
    found = cli(data, "search", "公共法律服务", "--json")
    assert found.returncode == 0 and "Traceback" not in found.stderr
    results = json.loads(found.stdout)
    # printed in three tables (收入预算总表, 支出预算总表, 一般公共预算支出功能分类预算表)
    assert [(r["kind"], r["name"], r["code"]) for r in results] == [("line", "公共法律服务", "2040607")] * 3
    # the index is current: a second ingest of the same file rebuilds nothing
    again = cli(data, "ingest", str(BUDGET_LINES_ONLY))
    assert again.returncode == 0 and again.stdout.startswith("unchanged")
    # the stored lines are still there for SPARQL
    q = cli(data, "sparql", "SELECT (COUNT(?l) AS ?n) WHERE { ?l a bkg:BudgetLine }", "--format", "csv")
    assert q.stdout.splitlines()[1] == "92"
