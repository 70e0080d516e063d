"""The benchmark runs end to end on a tiny corpus and reports what it promises (no timing
assertions: speed is measured by the benchmark itself, on a quiet machine)."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from conftest import ROOT

REQUIRED = [
    "scale.projects", "scale.indicators", "scale.triples", "ingest.docs_per_s", "ingest.seconds", "index.seconds",
    "index.unique_text_ratio", "sparql.p50_ms", "sparql.p95_ms", "sparql.speedup_vs_rdflib", "search.p50_ms",
    "search.p95_ms", "search.filtered_p95_ms", "search.query_embed_ms_p50", "rss_mb",
]


def get(d: dict, dotted: str):
    for k in dotted.split("."):
        d = d[k]
    return d


@pytest.mark.slow
def test_bench_run_200_projects():
    r = subprocess.run([sys.executable, "bench/run.py", "--projects", "200", "--json", "--repeat", "1", "--rdflib-budget", "15"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    for key in REQUIRED:
        v = get(res, key)
        assert isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, (key, v)
    corpus = res["corpus"]
    assert res["scale"]["projects"] == corpus["projects"] == 200
    assert res["scale"]["indicators"] == corpus["indicators"]
    assert res["ingest"]["errors"] == 0 and res["ingest"]["documents"] == corpus["documents"]
    assert 0 < res["index"]["unique_text_ratio"] <= 1
    assert res["index"]["distinct_texts"] <= res["index"]["texts_indexed"]
    # the rdflib side ran the same queries and, where it finished, found the same rows
    rd = res["sparql"]["rdflib"]["queries"]
    assert rd and all(q.get("same_rows", True) for q in rd.values())
    assert res["sparql"]["speedup_vs_rdflib"] > 0
    assert all(q["rows"] >= 0 for q in res["sparql"]["per_query"].values())
    # the scale-out store (a private Virtuoso, `make test` installs it) holds and answers the same
    from bench.virtuoso import available

    so = res["sparql"]["scale_out"]
    if available():
        assert so["ingest"]["errors"] == 0 and so["ingest"]["documents"] == corpus["documents"], so["ingest"]
        assert so["same_triples_as_embedded"] and so["same_rows_as_embedded"], so
        assert so["speedup_vs_rdflib"] > 0 and so["p50_ms"] > 0
    else:
        assert "not installed" in so["skipped"]
    ann = res["search"]["ann"]
    assert 0 <= ann["text_recall_at_10"] <= 1 and 0 <= ann["hybrid_recall_at_10"] <= 1
    assert res["search"]["queries"] == 50
