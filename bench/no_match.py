"""Calibrating the "no close match" call of a search (``match``: strong / weak / none), and measuring it.

    python bench/no_match.py [--data DIR] [--json]

Questions with answers: the development queries (``tests/data/dev-queries.json``, short keyword
questions) and ``bench/answered-questions.json`` (whole colloquial sentences: without them a chatty
question with good answers was called "none", since few of its words are the documents'); questions without:
``bench/no-answer-queries.json`` (things no sample document mentions). Each is asked with kind
``project`` and ``all``; per search the engine reports signals of how close its best match is
(:meth:`index.search.SearchEngine.rank_with_signals`): the raw cosine of the nearest candidate passage,
that passage's score standardised against every item of the kind, and the share of the question's
words the corpus uses at all. A logistic regression over the three gives the probability that the
corpus answers the question.

Measured by cross-validation: folds group the two searches of one question (never tuned on the test
fold), stratified, repeated over several shuffles; the "none" call (probability < 0.5) is scored with
out-of-fold predictions only. The model fitted on all questions is what ``index.weights`` holds
(``match_*``): printed at the end, with the features' means and scales folded into its coefficients.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURES = ("cosine_best", "dense_best", "coverage")
KINDS = ("project", "all")


def signals(engine, questions: list[str]) -> list[dict]:
    from index.search import Filters

    out = []
    for q in questions:
        for kind in KINDS:
            _, s = engine.rank_with_signals(q, Filters(kind=kind), top=1)
            out.append({"q": q, "kind": kind, **{f: s[f] for f in FEATURES}})
    return out


def fit(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(x, y)


def linear(model) -> tuple[list[float], float]:
    """The pipeline as one linear function of the raw features: (coefficients, intercept)."""
    scaler, lr = model.steps[0][1], model.steps[1][1]
    coef = lr.coef_[0] / scaler.scale_
    return [float(c) for c in coef], float(lr.intercept_[0] - (coef * scaler.mean_).sum())


def cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray, repeats: int = 10, folds: int = 5) -> dict:
    """Out-of-fold probabilities (each search predicted by a model that never saw its question),
    repeated over ``repeats`` shuffles; precision and recall of the "none" call per repeat."""
    from sklearn.model_selection import StratifiedGroupKFold

    prec, rec, probs = [], [], []
    for seed in range(repeats):
        p = np.zeros(len(y))
        for train, test in StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y, groups):
            p[test] = fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        none = p < 0.5
        truly_none = y == 0
        prec.append((none & truly_none).sum() / max(1, none.sum()))
        rec.append((none & truly_none).sum() / max(1, truly_none.sum()))
        probs.append(p)
    return {"precision_none": float(np.mean(prec)), "recall_none": float(np.mean(rec)),
            "precision_min": float(np.min(prec)), "recall_min": float(np.min(rec)),
            "probabilities": np.mean(probs, axis=0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from bench.search_quality import engine_for

    engine = engine_for(args.data)
    answered = [q["q"] for q in json.loads((ROOT / "tests" / "data" / "dev-queries.json").read_text(encoding="utf-8"))["queries"]]
    answered += json.loads((ROOT / "bench" / "answered-questions.json").read_text(encoding="utf-8"))["queries"]
    unanswered = json.loads((ROOT / "bench" / "no-answer-queries.json").read_text(encoding="utf-8"))["queries"]
    rows = signals(engine, answered) + signals(engine, unanswered)
    x = np.asarray([[r[f] for f in FEATURES] for r in rows])
    y = np.asarray([1] * (2 * len(answered)) + [0] * (2 * len(unanswered)))
    groups = np.asarray([r["q"] for r in rows])
    cv = cross_validate(x, y, groups)
    coef, intercept = linear(fit(x, y))
    from index.weights import WEIGHTS

    levels = [WEIGHTS.match_level(p) for p in cv["probabilities"]]
    table = {lab: {lev: sum(1 for lv, t in zip(levels, y) if lv == lev and t == val) for lev in ("strong", "weak", "none")}
             for lab, val in (("answered", 1), ("unanswered", 0))}
    res = {"searches": len(rows), "questions": {"answered": len(answered), "unanswered": len(unanswered)},
           "cross_validation": {k: round(v, 4) for k, v in cv.items() if k != "probabilities"},
           "out_of_fold_levels": table, "model": {"features": FEATURES, "coefficients": [round(c, 4) for c in coef],
                                                  "intercept": round(intercept, 4)}}
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
        return
    for r, p in sorted(zip(rows, cv["probabilities"]), key=lambda t: t[1]):
        print(f"{p:.3f} {r['kind']:<8}" + " ".join(f"{r[f]:7.3f}" for f in FEATURES) + f"  {r['q']}")
    print(json.dumps(res, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
