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
    #: reasons given for a comparable project (raw e5 cosines: they crowd near 0.85 even for
    #: unrelated texts, so only near-paraphrases count)
    shared_indicator_cos: float = 0.95
    similar_name_cos: float = 0.95
    similar_goal_cos: float = 0.93
    #: shared indicators listed at most
    shared_indicators_max: int = 3

    def fuse_depth(self, top: int) -> int:
        return max(self.fuse_depth_per_result * top, self.fuse_depth_min)


#: the weights the engine uses
WEIGHTS = Weights()
