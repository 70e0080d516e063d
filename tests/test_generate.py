"""The synthetic corpus generator (bench/generate.py) writes documents the parser reads exactly as
the generator says: same projects with the same amounts, indicators, key tasks, budget lines,
year and region; and it is deterministic in its seed."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not an installed package; plain `pytest` needs the repo root
    sys.path.insert(0, str(ROOT))

from bench.generate import LAYOUTS, generate, iter_documents, main  # noqa: E402
from ingest.parse import parse_file

PROJECTS = 60
SEED = 7


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate(out, PROJECTS, seed=SEED)


def test_stats_are_what_was_written(corpus):
    out, stats = corpus
    docs = list(iter_documents(PROJECTS, SEED))
    files = sorted(out.glob("*.txt"))
    assert [f.name for f in files] == sorted(d.filename for d in docs)
    assert stats == {
        "documents": len(docs),
        "projects": sum(len(d.projects) for d in docs),
        "indicators": sum(d.indicators for d in docs),
        "key_tasks": sum(d.key_tasks for d in docs),
        "budget_lines": sum(d.budget_lines for d in docs),
    }
    assert stats["projects"] == PROJECTS
    assert stats["documents"] >= 5 and stats["indicators"] > 5 * PROJECTS
    assert stats["key_tasks"] > 0 and stats["budget_lines"] > 0
    # the first documents cover every layout; every document holds ~3–15 projects
    assert {d.layout for d in docs} == set(LAYOUTS)
    assert all(1 <= len(d.projects) <= 15 for d in docs)
    assert len({(d.unit, d.year) for d in docs}) == len(docs)  # one document per unit and year


def test_parser_reads_exactly_what_was_written(corpus):
    out, stats = corpus
    totals = {"documents": 0, "projects": 0, "indicators": 0, "key_tasks": 0, "budget_lines": 0}
    for expected in iter_documents(PROJECTS, SEED):
        doc = parse_file(out / expected.filename)
        where = expected.filename
        totals["documents"] += 1
        totals["projects"] += len(doc.projects)
        indicators = sum(len(p.indicators) for p in doc.projects) + sum(len(d.indicators) for d in doc.department_targets)
        tasks = sum(len(d.tasks) for d in doc.department_targets)
        lines = sum(len(t.lines) for t in doc.budget_tables)
        totals["indicators"] += indicators
        totals["key_tasks"] += tasks
        totals["budget_lines"] += lines
        assert (indicators, tasks, lines) == (expected.indicators, expected.key_tasks, expected.budget_lines), where
        # every project, in order, with its name (unique in the document) and its amount to the 分
        names = [p.name for p in doc.projects]
        assert names == [n for n, _ in expected.projects], where
        assert len(set(names)) == len(names), where
        for p, (name, yuan) in zip(doc.projects, expected.projects):
            assert p.amount is not None and p.amount.yuan == yuan, (where, name, p.amount, yuan)
        assert doc.unit_name == expected.unit, where
        assert doc.year is not None and doc.year == expected.year, where
        assert doc.region.chain and doc.region.chain[-1][0] == expected.region, (where, doc.region.chain)
        assert not [w for w in doc.warnings if "duplicated indicator row" not in w], (where, doc.warnings)
    assert totals == stats


def test_same_seed_same_bytes_other_seed_other_corpus(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert generate(a, 25, seed=3) == generate(b, 25, seed=3)
    generate(c, 25, seed=4)

    def files(d: Path) -> dict[str, bytes]:
        return {f.name: f.read_bytes() for f in sorted(d.iterdir())}

    assert files(a) == files(b)
    assert files(a) != files(c)


def test_cli_prints_the_stats(tmp_path, capsys):
    assert main(["--projects", "12", "--out", str(tmp_path / "cli"), "--seed", "1"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["projects"] == 12
    assert stats["documents"] == len(list((tmp_path / "cli").glob("*.txt")))
