"""Measuring the threshold of shared meaning above which a project is comparable (``/api/similar``).

    python bench/comparable_threshold.py [--data DIR] [--json]

Labelled pairs from the development queries: two projects both graded 2 (fully relevant) for one
query are comparable; two projects graded for queries but never for the same one are not (a noisy
label: some such pairs are alike in ways no query asked about). The measure is the one
``index.comparable`` uses: the weighted profile similarity (name, goal, indicators) of B to A,
standardised against A's similarities to every other project (and the same from B's side, the lower
of the two). The threshold is chosen on training folds only (the midpoint that maximises balanced
accuracy), 10 × 5-fold stratified cross-validation; the value fitted on all pairs is what
``index.weights.Weights.comparable_min_z`` holds.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def labelled_pairs(engine, queries: list[dict]) -> tuple[list[tuple[int, int]], list[int]]:
    from bench.search_quality import key_of

    by_key = {key_of(it): n for n, it in enumerate(engine.items) if it.kind == "project"}
    pos, co, members = set(), set(), set()
    for q in queries:
        full = sorted(by_key[f"{t}/{n}"] for t, n, g in q["relevant"] if g == 2)
        graded = sorted(by_key[f"{t}/{n}"] for t, n, g in q["relevant"])
        members |= set(graded)
        pos |= set(itertools.combinations(full, 2))
        co |= set(itertools.combinations(graded, 2))
    neg = set(itertools.combinations(sorted(members), 2)) - co
    pairs = sorted(pos) + sorted(neg)
    return pairs, [1] * len(pos) + [0] * len(neg)


def best_threshold(z: np.ndarray, y: np.ndarray) -> float:
    vals = np.unique(z)
    cuts = (vals[1:] + vals[:-1]) / 2 if len(vals) > 1 else vals

    def balanced(t):
        return ((z[y == 1] >= t).mean() + (z[y == 0] < t).mean()) / 2

    return float(max(cuts, key=balanced))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from sklearn.model_selection import StratifiedKFold

    from bench.search_quality import engine_for

    engine = engine_for(args.data)
    queries = json.loads((ROOT / "tests" / "data" / "dev-queries.json").read_text(encoding="utf-8"))["queries"]
    pairs, y = labelled_pairs(engine, queries)
    y = np.asarray(y)
    z = np.asarray([engine.comparables.meaning_z(a, b) for a, b in pairs])
    prec, rec = [], []
    for seed in range(10):
        called = np.zeros(len(y), dtype=bool)
        for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(z, y):
            called[test] = z[test] >= best_threshold(z[train], y[train])
        prec.append((called & (y == 1)).sum() / max(1, called.sum()))
        rec.append((called & (y == 1)).sum() / max(1, (y == 1).sum()))
    res = {"pairs": {"comparable": int(y.sum()), "not": int((y == 0).sum())},
           "cross_validation": {"precision_comparable": round(float(np.mean(prec)), 4),
                                "recall_comparable": round(float(np.mean(rec)), 4)},
           "threshold_all_pairs": round(best_threshold(z, y), 4)}
    if not args.json:
        for (a, b), zz, lab in sorted(zip(pairs, z, y), key=lambda t: t[1]):
            print(f"{zz:6.3f} {'+' if lab else '-'} {engine.items[a].town}/{engine.items[a].name} ~ {engine.items[b].town}/{engine.items[b].name}")
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
