"""Mutated real documents: the parser returns a graph that passes SHACL or refuses with one of its own
expected errors. A reader that raises anything else (``ValueError``, ``IndexError`` …) is refused in
production as a :class:`~ingest.errors.ReaderBug` — here that fails the test."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from conftest import SEEDS
from ingest.errors import IngestError, ReaderBug
from ingest.mapping import map_document
from ingest.parse import parse_source
from ingest.text import SourceText
from ingest.validate import validate_graph
from ontology import LEVELS_TTL, TABLE_KINDS_TTL

DOCS = [SEEDS / n for n in ("dongguan-qingxi-2024-department-budget.txt",  # the budget tables (收支总表, 功能/经济分类 …)
                            "dongguan-dongkeng-2024-project-performance-targets.txt",
                            "dongguan-nancheng-2026-performance-targets.txt",
                            "dongguan-shatian-department-performance-targets.txt",
                            "lanzhou-yongdeng-2024-unit-budget.txt")]
TEXTS = [p.read_text(encoding="utf-8").split("\n") for p in DOCS]
# the vocabularies a document graph refers to (in the store they sit in the ontology graph)
LEVELS = Graph().parse(LEVELS_TTL) + Graph().parse(TABLE_KINDS_TTL)


@st.composite
def mutated(draw) -> str:
    lines = list(TEXTS[draw(st.integers(0, len(TEXTS) - 1))])
    for _ in range(draw(st.integers(1, 6))):
        if len(lines) < 2:
            break
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split("\t")
        op = draw(st.sampled_from(["drop_cell", "dup_cell", "shift_right", "shift_left", "cut_line",
                                   "dup_line", "blank_cell", "truncate"]))
        j = draw(st.integers(0, max(0, len(cells) - 1)))
        if op == "drop_cell" and len(cells) > 1:
            del cells[j]
        elif op == "dup_cell":
            cells.insert(j, cells[j])
        elif op == "shift_right":
            cells.insert(0, "")
        elif op == "shift_left" and cells and not cells[0]:
            del cells[0]
        elif op == "blank_cell":
            cells[j] = ""
        elif op == "cut_line":
            del lines[i]
            continue
        elif op == "dup_line":
            lines.insert(i, lines[i])
            continue
        elif op == "truncate":
            lines = lines[: max(1, i)]
            continue
        lines[i] = "\t".join(cells)
    return "\n".join(lines)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_give_a_valid_graph_or_an_ingest_error(text):
    try:
        doc = parse_source(SourceText(path="mutated.txt", text=text, sha256="0" * 64, encoding="utf-8"))
    except ReaderBug as exc:
        raise AssertionError(f"a reader crashed: {exc.reason} (line {exc.line})") from exc
    except IngestError as exc:
        assert exc.path == "mutated.txt" and exc.reason
        return
    mapped = map_document(doc)
    g = mapped.graph + mapped.shared + LEVELS
    report = validate_graph(g)
    assert report.conforms, report.text[:2000]
