"""Documents are read in worker processes and committed in file order: the store, the outcomes and
the messages are those of a serial ingest (through the real CLI, on real documents)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BULK = ROOT / "tests" / "fixtures" / "bulk"  # a ruled-table PDF budget and a scan
#: the ontology graph holds blank nodes (fresh ids at every load); every other quad is compared
ONTOLOGY_GRAPH = "<https://w3id.org/budgetkg/def> ."


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api", "--data", str(data), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ))


def quads(data: Path) -> list[str]:
    out = cli(data, "export", "--format", "nq").stdout.splitlines()
    return sorted(q for q in out if not q.endswith(ONTOLOGY_GRAPH))


def test_parallel_ingest_gives_the_serial_store(tmp_path):
    runs = {}
    for mode, args in {"serial": ["--workers", "1"], "parallel": ["--workers", "2"],
                       "parallel-bulk": ["--workers", "2", "--bulk"]}.items():
        data = tmp_path / mode
        run = cli(data, "ingest", str(ROOT / "samples"), str(BULK), "--no-index", *args)
        assert "Traceback" not in run.stderr
        runs[mode] = (run.returncode, run.stdout, run.stderr, quads(data))
    serial = runs["serial"]
    assert serial[0] == 1  # the scan is refused; everything else goes in
    assert "ERROR" in serial[2] and "scanned PDF" in serial[2]
    assert serial[1].count("added ") == 9 and len(serial[3]) > 10_000
    assert runs["parallel"] == serial
    assert runs["parallel-bulk"][3] == serial[3]


def test_a_later_copy_of_a_document_replaces_the_earlier_one_in_file_order(tmp_path):
    """Two versions of one document in one run: the later file wins, however many workers read."""
    src = ROOT / "samples" / "seeds" / "lanzhou-yongdeng-2024-unit-budget.txt"
    folder = tmp_path / "docs"
    folder.mkdir()
    text = src.read_text(encoding="utf-8")
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "b.txt").write_text(text.replace("137.05", "137.06", 1), encoding="utf-8")
    got = []
    for workers in ("1", "2"):
        data = tmp_path / f"data{workers}"
        run = cli(data, "ingest", str(folder), "--no-index", "--workers", workers)
        assert run.returncode == 0
        got.append((run.stdout.splitlines()[:2], quads(data)))
    (first, second), _ = got[0]
    assert first.startswith("added     ") and second.startswith("replaced  ")
    assert got[0] == got[1]
