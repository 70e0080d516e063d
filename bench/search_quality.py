"""Search quality on the development queries: nDCG@10 and Recall@5 at project level, for the hybrid
ranking and for each retriever alone (jieba BM25 over the same texts is the baseline).

    python bench/search_quality.py [--data DIR] [--queries tests/data/dev-queries.json] [--json]

Builds a data directory from samples/ when --data is not given.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ndcg(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** grades.get(x, 0) - 1) / math.log2(i + 2) for i, x in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    rel = {x for x, g in grades.items() if g > 0}
    return len(rel.intersection(ranked[:k])) / len(rel) if rel else 0.0


def key_of(item) -> str:
    from ingest.regions import short_name

    return f"{short_name(item.town or '')}/{item.name}"


def baseline_bm25(engine):
    """The baseline: jieba + BM25 over the same item texts, without budgetkg's n-grams or fusion."""
    from index.build import item_tokens
    from index.lexical import BM25Index, Tokenizer

    tok = Tokenizer(engine.tokenizer_words, ngrams=False)
    # statistics of the same items as the engine's BM25 (budget lines not counted: index.build.statistics_weights)
    counted = np.asarray([it.kind != "line" for it in engine.items], dtype=np.int64)
    return tok, BM25Index.build([item_tokens(tok, it) for it in engine.items], weights=counted if counted.any() else None)


def evaluate(engine, queries: list[dict], modes=("hybrid", "dense", "bm25", "baseline")) -> dict:
    from index.search import Filters

    base_tok, base_bm25 = baseline_bm25(engine) if "baseline" in modes else (None, None)
    out = {m: {"ndcg10": [], "recall5": []} for m in modes}
    qvs = engine.embedder.queries([q["q"] for q in queries])
    per_query = []
    for q, qv in zip(queries, qvs):
        grades = {f"{t}/{n}": g for t, n, g in q["relevant"]}
        f = Filters(kind="project")
        mask = engine.candidates(f)
        cand = np.nonzero(mask)[0]
        rankings = {}
        if "hybrid" in modes:
            rankings["hybrid"] = [key_of(engine.items[engine.by_iri[r["iri"]]]) for r in engine.rank(q["q"], f, top=10, qv=qv)]
        if "dense" in modes:
            d, _ = engine.dense_scores(qv, mask)
            rankings["dense"] = [key_of(engine.items[n]) for n in cand[np.argsort(-d[cand], kind="stable")][:10]]
        if "bm25" in modes:
            s = engine.lexical_scores(q["q"], mask)
            rankings["bm25"] = [key_of(engine.items[n]) for n in cand[np.argsort(-s[cand], kind="stable")][:10]]
        if "baseline" in modes:
            s = base_bm25.scores(base_tok.tokens(q["q"]), mask.astype(np.float32))
            rankings["baseline"] = [key_of(engine.items[n]) for n in cand[np.argsort(-s[cand], kind="stable")][:10]]
        row = {"q": q["q"]}
        for m, r in rankings.items():
            out[m]["ndcg10"].append(ndcg(r, grades))
            out[m]["recall5"].append(recall(r, grades))
            row[m] = round(out[m]["ndcg10"][-1], 3)
        per_query.append(row)
    summary = {m: {"ndcg10": round(float(np.mean(v["ndcg10"])), 4), "recall5": round(float(np.mean(v["recall5"])), 4)}
               for m, v in out.items()}
    return {"summary": summary, "queries": per_query}


def engine_for(data: Path | None):
    """A search engine over ``data``, built from samples/ first when it holds no index (a new
    temporary directory when ``data`` is None)."""
    from index.build import build_index
    from index.search import SearchEngine
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    if data is None:
        data = Path(tempfile.mkdtemp(prefix="budgetkg-quality-"))
    if not (data / "index" / "manifest.json").exists():
        store = open_store(data)
        ingest_paths(store, [ROOT / "samples"])
        store.close()
        store = open_store(data, read_only=True)
        build_index(data, store)
        store.close()
    return SearchEngine(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path)
    ap.add_argument("--queries", type=Path, default=ROOT / "tests" / "data" / "dev-queries.json")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    engine = engine_for(args.data)
    queries = json.loads(args.queries.read_text(encoding="utf-8"))["queries"]
    res = evaluate(engine, queries)
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
        return
    for row in res["queries"]:
        print(f"{row['q']:<16} " + "  ".join(f"{m}={row[m]:.3f}" for m in ("hybrid", "dense", "bm25", "baseline")))
    for m, v in res["summary"].items():
        print(f"{m:>7}: nDCG@10 {v['ndcg10']:.4f}  Recall@5 {v['recall5']:.4f}")


if __name__ == "__main__":
    main()
