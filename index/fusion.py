"""Weighted reciprocal rank fusion of the dense and the lexical ranking, exactly, without fusing
every item: only items near the top of either ranking are fused, and a bound says when no other
item can enter the top.
"""
from __future__ import annotations

import numpy as np

from .loading import IndexData
from .weights import WEIGHTS, Weights


def top_order(values: np.ndarray, idx: np.ndarray, top: int) -> np.ndarray:
    """The first ``top`` of ``idx`` by ``values`` descending, ties by index (exact; partial sort)."""
    if len(idx) <= top:
        return idx[np.lexsort((idx, -values[idx]))]
    v = values[idx]
    kth = np.partition(v, len(v) - top)[len(v) - top]
    keep = idx[v >= kth]  # ties with the top-th value stay in, the sort decides among them
    return keep[np.lexsort((keep, -values[keep]))][:top]


def competition_ranks(values: np.ndarray, counts: np.ndarray, positive: bool = False) -> np.ndarray:
    """Rank of every entry among the candidate items: 1 + the number of candidate items scored
    strictly higher (``counts`` items per entry). Equal scores share a rank — identical texts
    in a thousand towns are equally good matches, not ranks 1…1000 in storage order. 0 where
    an entry has no candidate (or, with ``positive``, no positive score)."""
    act = counts > 0
    if positive:
        act &= values > 0
    idx = np.flatnonzero(act)
    ranks = np.zeros(len(values), dtype=np.int64)
    if not len(idx):
        return ranks
    order = idx[np.argsort(-values[idx])]  # any order of equal values: they share a rank
    neg = -values[order].astype(np.float64)
    before = np.r_[0, np.cumsum(counts[order])[:-1]]
    ranks[order] = 1 + before[np.searchsorted(neg, neg, side="left")]
    return ranks


def fuse(data: IndexData, mask: np.ndarray, gs: np.ndarray, cnt_g: np.ndarray, ls: np.ndarray, cnt_d: np.ndarray,
         coverage: float, top: int, weights: Weights = WEIGHTS,
         lines_asked: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fused top ``top`` of the candidates ``mask``, from the group scores ``gs`` (dense) and
    the lexical document scores ``ls`` with their candidate counts. Returns ``(cand, fused, order)``:
    the item indices fused, their fused scores, and the positions in them of the top, best first
    (ties by item order). ``lines_asked``: the question names a classification code, so budget lines
    are what it is about and their words weigh in full.

    Competition ranks (equal scores, equal rank). Exact: any item outside the first K of both
    rankings scores at most (w_dense + w_lex) / (rrf_k + K + 1), so once the top-th fused score is
    above that nothing else can enter; else K grows."""
    ncand = int(mask.sum())
    w = weights
    g_rank = competition_ranks(gs, cnt_g)
    d_rank = competition_ranks(ls, cnt_d, positive=True)
    w_lex = w.lexical * coverage
    k = w.fuse_depth(top)
    while True:
        near = mask & ((g_rank <= k)[data.item_group] | ((d_rank > 0) & (d_rank <= k))[data.item_doc])
        cand = np.flatnonzero(near)
        dr, lr = g_rank[data.item_group[cand]], d_rank[data.item_doc[cand]]
        w_line = 1.0 if lines_asked else w.lexical_line
        wl = w_lex * np.where(data.is_indicator[cand], w.lexical_indicator, np.where(data.is_line[cand], w_line, 1.0))
        fused = w.dense / (w.rrf_k + dr) + np.where(lr > 0, wl / (w.rrf_k + np.maximum(lr, 1)), 0.0)
        # cand is in item order, so positions in it break ties as item indices do
        order = top_order(fused, np.arange(len(cand)), top)
        bound = (w.dense + w_lex) / (w.rrf_k + k + 1)
        if len(cand) >= ncand or (len(order) >= top and fused[order[-1]] > bound):
            return cand, fused, order
        k *= w.fuse_depth_growth
