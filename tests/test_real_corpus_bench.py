"""bench/real_corpus.py: every file of a folder gets a line — read, refused with its reason, or a
failure (an exception, a worker that dies) — and never a traceback that stops the run."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BULK = ROOT / "tests" / "fixtures" / "bulk"
QINGXI = ROOT / "samples" / "seeds" / "dongguan-qingxi-2024-department-budget.txt"


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "real_corpus.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_a_folder_of_real_and_broken_files(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-qingxi.txt").write_bytes(QINGXI.read_bytes())
    (folder / "b-scan.pdf").write_bytes((BULK / "044_济南_规划和自然资源局_政府信息公开申请办理流程图.pdf").read_bytes())
    pdf = (BULK / "076_珠海_财政局_2026年部门预算.pdf").read_bytes()
    (folder / "c-cut.pdf").write_bytes(pdf[: len(pdf) // 2])  # a download cut short
    (folder / "d-empty.pdf").write_bytes(b"")
    run = bench(str(folder), "--json", "--workers", "2")
    assert run.returncode == 0 and "Traceback" not in run.stderr
    out = json.loads(run.stdout)
    rows = {r["file"]: r for r in out["files"]}
    assert [r["file"] for r in out["files"]] == ["a-qingxi.txt", "b-scan.pdf", "c-cut.pdf", "d-empty.pdf"]
    a = rows["a-qingxi.txt"]
    assert (a["status"], a["unit"], a["projects"], a["projects_with_indicators"], a["budget_lines"]) == (
        "read", "东莞市清溪镇政务服务中心", 8, 8, 65)
    assert a["checks_diff"] == 1 and a["checks"] == a["checks_ok"] + 1
    assert a["diffs"] == ["收入总计 = 本年收入合计 + 上年结转等: 收支总体情况表: computed 0.00 元 vs printed "
                          "9,928,500.00 元, differs by -9,928,500.00 元 (lines 68)"]
    assert a["prints_target_table"] is True and a["text_layer"] is True
    b = rows["b-scan.pdf"]
    assert (b["status"], b["pages"], b["text_layer"]) == ("refused", 1, False)
    assert b["reason"] == "scanned PDF: none of its 1 pages has a text layer (OCR it first)"
    assert (rows["c-cut.pdf"]["status"], rows["c-cut.pdf"]["reason"]) == ("refused", "truncated PDF (no %%EOF marker)")
    assert (rows["d-empty.pdf"]["status"], rows["d-empty.pdf"]["reason"]) == ("refused", "empty file")
    t = out["totals"]
    assert (t["files"], t["files_with_text_layer"], t["read"], t["refused"], t["failures"]) == (4, 1, 1, 3, 0)
    assert t["refused_by_reason"] == {"scanned PDF: none of its N pages has a text layer (OCR it first)": 1,
                                      "truncated PDF (no %%EOF marker)": 1, "empty file": 1}
    assert t["checks_ok"] == a["checks_ok"] and t["read_files_every_check_ok"] == 0
    assert t["files_printing_target_tables"] == 1 and t["target_tables_without_projects_with_indicators"] == []


FAKE_PARSE = '''
import os

from .errors import IngestError


class Doc:
    path = "x"
    refusal = "nothing to read here"
    tables, projects, department_targets, budget_tables = [], [], [], []


def read_document(src):
    if "bug" in src:
        raise RuntimeError("a reader bug that escaped")
    if "dies" in src:
        os._exit(3)  # the worker process dies
    if "hangs" in src:
        while True:
            pass
    return Doc()
'''


def test_failures_are_lines_not_tracebacks(tmp_path):
    """Another tree's parser (as ``--tree`` measures the parser before a change) that raises, kills
    its worker or never returns: each is that file's line, and the others are still measured."""
    tree = tmp_path / "tree" / "ingest"
    tree.mkdir(parents=True)
    (tree / "__init__.py").write_text("")
    (tree / "errors.py").write_text(textwrap.dedent('''
        class IngestError(Exception):
            def __init__(self, path, reason, line=None):
                self.path, self.reason, self.line = path, reason, line
                super().__init__(reason)
        '''))
    (tree / "text.py").write_text("def key(s):\n    return s\n\ndef read_source(path):\n    return str(path)\n")
    (tree / "mapping.py").write_text("def map_document(doc):\n    return None\n")
    (tree / "parse.py").write_text(FAKE_PARSE)
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("1-fine.txt", "2-bug.txt", "3-dies.txt", "4-hangs.txt", "5-fine.txt"):
        (folder / name).write_text("预算" * 20, encoding="utf-8")
    run = bench(str(folder), "--json", "--workers", "2", "--tree", str(tmp_path / "tree"), "--timeout", "5")
    assert run.returncode == 0, run.stderr
    rows = {r["file"]: r for r in json.loads(run.stdout)["files"]}
    assert rows["1-fine.txt"]["status"] == rows["5-fine.txt"]["status"] == "refused"
    assert rows["1-fine.txt"]["reason"] == "nothing to read here"
    assert (rows["2-bug.txt"]["status"], rows["2-bug.txt"]["reason"]) == (
        "failed", "traceback: RuntimeError: a reader bug that escaped")
    assert rows["3-dies.txt"]["status"] == "failed" and rows["3-dies.txt"]["reason"].startswith("worker process died")
    assert (rows["4-hangs.txt"]["status"], rows["4-hangs.txt"]["reason"]) == ("failed", "timeout: took longer than 5 s")
    human = bench(str(folder), "--workers", "2", "--tree", str(tmp_path / "tree"), "--timeout", "5").stdout
    assert "FAILED   2-bug.txt: traceback: RuntimeError: a reader bug that escaped" in human
    assert "failures 3" in human


def test_baseline_side_by_side_and_ingest_speed(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-qingxi.txt").write_bytes(QINGXI.read_bytes())
    (folder / "b-zhuhai.pdf").write_bytes((BULK / "076_珠海_财政局_2026年部门预算.pdf").read_bytes())
    # the baseline is this very tree: the same numbers on both sides
    out = json.loads(bench(str(folder), "--json", "--workers", "2", "--baseline", str(ROOT)).stdout)
    cmp = out["comparison"]
    assert cmp["checks"]["before"] == cmp["checks"]["after"] == out["totals"]["checks"] > 0
    assert cmp["read_of_text_layer"] == {"before": 2, "after": 2}
    assert cmp["speed"]["pdfs_read_by_both"] == 1 and cmp["speed"]["pages"] == 24
    assert [r["status"] for r in out["baseline"]["files"]] == [r["status"] for r in out["files"]] == ["read", "read"]
    ingest = json.loads(bench(str(folder), "--json", "--workers", "2", "--ingest").stdout)["ingest"]
    assert (ingest["files"], ingest["serial_stored"], ingest["parallel_stored"], ingest["same_store"]) == (2, 2, 2, True)
