"""Every weight and threshold that decides a ranking or a comparison, named in one place.

The values were chosen on the development queries (``bench/search_quality.py``); change one only
with a measurement (``make quality`` prints nDCG@10 and Recall@5 before and after). Limits that only
trade speed for exactness (how deep an approximate index is asked, when a filter counts as
selective) live with the code they tune, in :mod:`index.rankers`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    # -- fusion of the dense and the lexical ranking (weighted reciprocal rank fusion) ----------------
    #: k of reciprocal rank fusion: a result at rank r adds weight / (rrf_k + r)
    rrf_k: int = 60
    #: weight of the dense (e5) ranking
    dense: float = 1.0
    #: weight of the lexical (BM25) ranking, before it is scaled by the share of the question's words
    #: that occur in the corpus at all (a colloquial question the documents never word that way)
    lexical: float = 1.0
    #: the lexical weight is scaled by this for indicators: short formulaic texts where sharing a
    #: generic word (设备, 及时率) says little
    lexical_indicator: float = 0.5
    #: … and for budget lines, for the same reason (行政运行, 群众文化: generic names of categories)
    lexical_line: float = 0.5
    #: an item's dense score is its best passage plus this times its second best (when positive):
    #: evidence from two places counts
    second_passage: float = 0.3
    #: items fused at first: those within max(per_result × top, minimum) of either ranking; the
    #: depth grows (×4) until an exact bound says nothing deeper can enter the top
    fuse_depth_per_result: int = 8
    fuse_depth_min: int = 100
    fuse_depth_growth: int = 4

    # -- comparable projects (/api/similar) -------------------------------------------------------
    #: shared meaning of two projects: weights of the cosines of their name, goal and indicator
    #: profiles (mean vectors, see index/build.py); they sum to 1
    profile_name: float = 0.45
    profile_goal: float = 0.35
    profile_indicator: float = 0.20
    #: share of the comparable score the amount ratio (smaller / larger amount) may move: it orders
    #: projects of alike meaning and is shown as a reason, it never makes a project comparable
    amount_share: float = 0.08
    #: the ratio assumed when either amount is unknown (neither favoured nor penalised much)
    amount_unknown_ratio: float = 0.5
    #: a project is comparable only when the meaning it shares (the weighted profile similarity) is
    #: at least this many standard deviations above the usual, from both projects' sides
    #: (bench/comparable_threshold.py: chosen by balanced accuracy on pairs labelled from the development
    #: queries; 10 × 5-fold cross-validation: recall 0.88, precision 0.30 — the "not comparable" labels
    #: are pairs no query happened to grade together, many of them alike all the same)
    comparable_min_z: float = 0.79
    #: reasons given for a comparable project (raw e5 cosines: they crowd near 0.85 even for
    #: unrelated texts, so only near-paraphrases count)
    shared_indicator_cos: float = 0.95
    similar_name_cos: float = 0.95
    similar_goal_cos: float = 0.93
    #: shared indicators listed at most
    shared_indicators_max: int = 3

    # -- how close the best match is (``match`` of a search: strong / weak / none) -----------------
    #: logistic model of "the corpus answers this question" over the signals of a search (see
    #: SearchEngine.rank_with_signals): the raw cosine of the nearest candidate passage, its score
    #: standardised against every item of the kind, and the share of the question's words the corpus
    #: uses. Fitted and cross-validated by bench/no_match.py on the development queries, the colloquial
    #: answered questions of bench/answered-questions.json and bench/no-answer-queries.json
    #: (multilingual-e5-small; another model needs its own fit). Measured (10 × 5-fold cross-validation
    #: grouped by question, 38 answered and 22 unanswered questions, kinds project and all): "none"
    #: precision 0.950, recall 0.952. Fitted on keyword questions alone it scored 0.998 / 1.0 but called
    #: chatty questions with good answers "none" (few of their words are the documents'): the
    #: colloquial ones trade a little precision for not telling a researcher "nothing" wrongly.
    match_coefficients: tuple[float, float, float] = (77.4518, -1.0463, 5.4406)
    match_intercept: float = -66.5163
    #: probability below which a search says "no close match", and from which it says "strong"
    match_none_below: float = 0.5
    match_strong_from: float = 0.9

    def match_probability(self, signals: dict) -> float:
        import math

        x = (signals["cosine_best"], signals["dense_best"], signals["coverage"])
        if not all(math.isfinite(v) for v in x):
            return 0.0
        z = self.match_intercept + sum(c * v for c, v in zip(self.match_coefficients, x))
        return 1 / (1 + math.exp(-z)) if z > -700 else 0.0

    def match_level(self, probability: float) -> str:
        if probability < self.match_none_below:
            return "none"
        return "strong" if probability >= self.match_strong_from else "weak"

    def fuse_depth(self, top: int) -> int:
        return max(self.fuse_depth_per_result * top, self.fuse_depth_min)


#: the weights the engine uses
WEIGHTS = Weights()
