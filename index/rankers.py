"""The two rankings a search fuses: dense (e5 cosines) and lexical (jieba BM25).

Per query, work is done per *group* of items with the same passages (dense) and per distinct
lexical document (BM25), never per item or passage (see :mod:`index.build`). Measured on the
generated 100,000-project corpus (1.04 M items, 2.4 M passages): see bench/run.py and the README's
benchmark table.

The module constants trade speed for exactness only; they never change a ranking of an exact index.
"""
from __future__ import annotations

import numpy as np

from .loading import IndexData
from .weights import WEIGHTS, Weights

#: texts searched exactly (dot products) when the candidate set is at most this large
EXACT_LIMIT = 50_000
#: with an approximate index: texts asked of it, and groups rescored exactly at the top of the dense ranking
DENSE_DEPTH = 1000
#: HNSW search list: at least this, and this many times the texts asked for
HNSW_EF_SEARCH = 256
HNSW_EF_FACTOR = 4
#: with an approximate index, per-field cosine statistics come from an exact sample of about this many
#: (field, text) pairs per field
Z_SAMPLE = 8192
#: score only the groups with candidates when they are fewer than this share of all groups
SELECTIVE = 0.5


class Counts:
    """Candidate items per passage group and per lexical document, for a candidate mask. A mask
    that depends on the kind alone (no other filter) is asked for again and again: its counts are
    kept under a key."""

    def __init__(self, data: IndexData):
        self.data = data
        self._counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._pair_counts: dict[str, np.ndarray] = {}

    def counts(self, mask: np.ndarray, key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        if key is not None and key in self._counts:
            return self._counts[key]
        d = self.data
        sel = np.flatnonzero(mask)
        out = (np.bincount(d.item_group[sel], minlength=d.n_groups), np.bincount(d.item_doc[sel], minlength=d.n_docs))
        if key is not None:
            self._counts[key] = out
        return out

    def pair_counts(self, cnt_g: np.ndarray, key: str | None = None, passages: np.ndarray | None = None) -> np.ndarray:
        """Candidate passages per distinct (field, text) pair, from the candidate items per group;
        ``passages``: the group passages to count when only those of some groups can have candidates."""
        if key is not None and key in self._pair_counts:
            return self._pair_counts[key]
        d = self.data
        pairs, groups = (d.g_pair, d.g_of_passage) if passages is None else (d.g_pair[passages], d.g_of_passage[passages])
        out = np.bincount(pairs, weights=cnt_g[groups], minlength=len(d.pair_text))
        if key is not None:
            self._pair_counts[key] = out
        return out


class DenseRanker:
    """e5 cosines of the query with every passage of the candidates, standardised per field (short
    names and long goals have different cosine baselines), an item scored by its best passage plus
    a share of its second best."""

    def __init__(self, data: IndexData, counts: Counts, weights: Weights = WEIGHTS):
        self.data = data
        self.counts = counts
        self.weights = weights

    def text_cosines(self, qv: np.ndarray, cnt_g: np.ndarray) -> tuple[np.ndarray, bool]:
        """Cosine of the query with every text the candidate groups use; ``True`` when an
        approximate index chose the texts (the others then hold the farthest cosine it returned)."""
        d = self.data
        ntexts = d.vectors.shape[0]
        if ntexts <= EXACT_LIMIT:
            # few distinct texts (they repeat a lot): every cosine at once is cheaper than choosing
            return np.asarray(d.vectors) @ qv, False
        tmask = np.zeros(ntexts, dtype=bool)
        tmask[d.g_text[(cnt_g > 0)[d.g_of_passage]]] = True
        tids = np.flatnonzero(tmask)
        cos = np.full(ntexts, -np.inf, dtype=np.float32)
        if len(tids) <= EXACT_LIMIT:
            cos[tids] = np.asarray(d.vectors[tids]) @ qv
            return cos, False
        import faiss

        k = min(DENSE_DEPTH, len(tids))
        sel = faiss.IDSelectorBatch(tids.astype(np.int64)) if len(tids) < ntexts else None
        if isinstance(d.faiss, faiss.IndexHNSW):
            # the farthest text returned must be the k-th nearest, or the cosine given to the texts
            # not returned is no upper bound: HNSW needs a search list well beyond k for a deep k
            # (measured at 100,000 projects: efSearch 256 found 64 % of the true top 1,000 texts)
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, HNSW_EF_FACTOR * k))
        else:
            params = faiss.SearchParameters(sel=sel)
        dist, idx = d.faiss.search(qv[None, :], k, params=params)
        ok = idx[0] >= 0
        cos[idx[0][ok]] = dist[0][ok]
        # texts the approximate index did not return are no nearer than the farthest it did: they
        # get that cosine, an upper bound, so every group's score is an upper bound of its exact one
        found = cos[tmask & np.isfinite(cos)]
        cos[tmask & ~np.isfinite(cos)] = found.min() if len(found) else 0.0
        return cos, True

    def field_stats(self, qv: np.ndarray, cos: np.ndarray, pair_cnt: np.ndarray, approximate: bool) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the cosines per field over the candidate items' passages
        (each distinct (field, text) pair weighted by how many candidate passages it is). Short names
        and long goals have different cosine baselines under e5: z-scores per field make them
        comparable (raw cosines would always let names win)."""
        d = self.data
        w, fields, texts = pair_cnt, d.pair_field, d.pair_text
        if approximate:
            # an approximate index scored only the nearest texts: the statistics come from an exact
            # sample of the candidate pairs (measured: hybrid recall@10 against exact 0.69 with
            # statistics of the nearest texts only)
            nz = np.flatnonzero(w)
            sample = nz[:: max(1, len(nz) // (Z_SAMPLE * len(d.field_w)))]
            w, fields, texts = w[sample], fields[sample], texts[sample]
            pc = (np.asarray(d.vectors[texts]) @ qv).astype(np.float64)
        else:
            pc = cos[texts].astype(np.float64)
        nf = len(d.field_w)
        cnt = np.bincount(fields, weights=w, minlength=nf)
        s1 = np.bincount(fields, weights=w * pc, minlength=nf)
        s2 = np.bincount(fields, weights=w * pc * pc, minlength=nf)
        mu = np.where(cnt > 0, s1 / np.maximum(cnt, 1), 0.0)
        sd = np.sqrt(np.maximum(s2 / np.maximum(cnt, 1) - mu * mu, 0.0))
        # a single candidate passage has no spread at all
        sd = np.where((cnt > 1) & (sd > 1e-6), sd, 1.0)
        return mu, sd

    def score_segments(self, ps: np.ndarray, starts: np.ndarray, seg: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per segment of passage scores: best + second_passage × max(second best, 0), and the offset
        of the (first) best passage in its segment. ``seg``: the segment of every passage, when known."""
        top1 = np.maximum.reduceat(ps, starts)
        if seg is None:
            seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(ps)]))
        at_max = np.flatnonzero(ps == top1[seg])
        first = at_max[np.r_[True, seg[at_max][1:] != seg[at_max][:-1]]]
        score = top1.copy()
        second = self.weights.second_passage
        if second > 0:
            # evidence from a second, different passage adds to the best one
            rest = ps.copy()
            rest[first] = -np.inf
            top2 = np.maximum.reduceat(rest, starts)
            has2 = np.isfinite(top2) & np.isfinite(top1)
            score[has2] += second * np.maximum(top2[has2], 0)
        return score, first - starts

    def passages_of(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The passage indices of some groups, group after group, and where each group starts among them."""
        d = self.data
        lens = d.g_start[groups + 1] - d.g_start[groups]
        local = np.r_[0, np.cumsum(lens)[:-1]]
        return np.repeat(d.g_start[groups] - local, lens) + np.arange(int(lens.sum())), local

    def group_scores(self, qv: np.ndarray, cnt_g: np.ndarray, pair_cnt: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Dense score of every passage group with candidates (−inf otherwise) and the offset of its
        best passage within the group (−1 when it has none). ``pair_cnt``: candidate passages per
        (field, text) pair (:meth:`Counts.pair_counts`), computed when not given."""
        gs, gbest, _ = self.scores_and_best(qv, cnt_g, pair_cnt)
        return gs, gbest

    def scores_and_best(self, qv: np.ndarray, cnt_g: np.ndarray, pair_cnt: np.ndarray | None = None,
                        reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
        """:meth:`group_scores`, and the best passage of any candidate scored against the per-field
        statistics of the ``reference`` pair counts (a wider population, e.g. every item of the kind)
        instead of the candidates' own: how close the best match is, comparable across filters (a
        filter leaving 8 projects must not make their best look worse than among all 27), as
        ``{"dense_best": that score, "cosine_best": the raw cosine of the nearest candidate passage}``."""
        d = self.data
        gs = np.full(d.n_groups, -np.inf, dtype=np.float32)
        gbest = np.full(d.n_groups, -1, dtype=np.int64)
        if not cnt_g.any() or not len(d.g_text):
            return gs, gbest, {"dense_best": float("-inf"), "cosine_best": float("-inf")}
        ne = d.g_nonempty
        active = ne[cnt_g[ne] > 0]
        # a selective filter (a town, a year, a SPARQL set) leaves few groups: score only theirs
        selective = len(active) < SELECTIVE * len(ne)
        if selective:
            pidx, starts = self.passages_of(active)
        if pair_cnt is None:
            pair_cnt = self.counts.pair_counts(cnt_g, passages=pidx if selective else None)
        cos, approximate = self.text_cosines(qv, cnt_g)
        mu, sd = self.field_stats(qv, cos, pair_cnt, approximate)
        zw = d.field_w / sd  # (cos − mu[f]) / sd[f] × w[f], folded per field
        # each distinct (field, text) pair is standardised once, passages just look their pair up
        pair_score = (cos[d.pair_text] * zw[d.pair_field] - (mu * zw)[d.pair_field]).astype(np.float32)
        if selective:
            gs[active], gbest[active] = self.score_segments(pair_score[d.g_pair[pidx]], starts)
        else:
            score, off = self.score_segments(pair_score[d.g_pair], d.g_start[ne], d.ne_seg)
            gs[ne], gbest[ne] = score, off
            gs[cnt_g == 0], gbest[cnt_g == 0] = -np.inf, -1
        if approximate:
            self.rescore(qv, gs, gbest, cnt_g, cos, zw, mu)
        best = {"dense_best": float("-inf"), "cosine_best": float("-inf")}
        if reference is None:
            return gs, gbest, best
        # the pairs the candidates' passages use (pair_cnt may count a wider population: see SearchEngine)
        present = np.zeros(len(d.pair_text), dtype=bool)
        present[d.g_pair[pidx] if selective else d.g_pair[(cnt_g > 0)[d.g_of_passage]]] = True
        if present.any():
            mu_r, sd_r = self.field_stats(qv, cos, reference, approximate)
            zw_r = d.field_w / sd_r
            ref_score = cos[d.pair_text] * zw_r[d.pair_field] - (mu_r * zw_r)[d.pair_field]
            best = {"dense_best": float(ref_score[present].max()), "cosine_best": float(cos[d.pair_text][present].max())}
        return gs, gbest, best

    def rescore(self, qv, gs, gbest, cnt_g, cos, zw, mu, chunk: int = 256) -> None:
        """Exact scores for the dense top ``DENSE_DEPTH`` groups: groups in order of their upper-bound
        score, a chunk at a time, until the ``DENSE_DEPTH``-th best exact score is no lower than the
        next upper bound (then no group left unscored can overtake them)."""
        d = self.data
        order = np.flatnonzero(cnt_g > 0)
        order = order[np.argsort(-gs[order], kind="stable")]
        done = np.zeros(d.n_groups, dtype=bool)
        for i in range(0, len(order), chunk):
            batch = order[i : i + chunk]
            batch = batch[d.g_start[batch + 1] > d.g_start[batch]]
            if len(batch):
                pidx, starts = self.passages_of(batch)
                t = d.g_text[pidx]
                uniq, inv = np.unique(t, return_inverse=True)
                exact = np.asarray(d.vectors[uniq]) @ qv
                cos[uniq] = exact
                f = d.g_field[pidx]
                ps = (exact[inv] * zw[f] - (mu * zw)[f]).astype(np.float32)
                gs[batch], gbest[batch] = self.score_segments(ps, starts)
            done[order[i : i + chunk]] = True
            if i + chunk >= len(order):
                break
            # counted in groups, not items: one text repeated by 5,000 items would otherwise fill
            # the depth alone and leave the ranks of everything below it approximate
            ex = np.flatnonzero(done)
            if len(ex) > DENSE_DEPTH and np.partition(-gs[ex], DENSE_DEPTH)[DENSE_DEPTH] <= -gs[order[i + chunk]]:
                break

    def item_scores(self, qv: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item scores (−inf where not scored) and, per item, the passage index that scored best."""
        d = self.data
        cnt_g, _ = self.counts.counts(mask)
        gs, gbest = self.group_scores(qv, cnt_g)
        scores = np.where(mask, gs[d.item_group], -np.inf).astype(np.float32)
        off = gbest[d.item_group]
        best = np.where(mask & (off >= 0), d.p_start + off, -1)
        return scores, best


class LexicalRanker:
    """BM25 over the distinct lexical documents (items with the same text share one), with the
    statistics of the items (see :mod:`index.build`)."""

    def __init__(self, data: IndexData, counts: Counts):
        self.data = data
        self.counts = counts

    def doc_scores(self, query: str, cnt_d: np.ndarray) -> np.ndarray:
        """BM25 score of every lexical document with candidate items (0 for the others)."""
        d = self.data
        return d.bm25.scores(d.tokenizer.query_tokens(query, d.bm25.vocab), (cnt_d > 0).astype(np.float32))

    def item_scores(self, query: str, mask: np.ndarray) -> np.ndarray:
        _, cnt_d = self.counts.counts(mask)
        s = self.doc_scores(query, cnt_d)[self.data.item_doc]
        s[~mask] = 0
        return s

    def coverage(self, query: str) -> float:
        """Share of the query's words that occur anywhere in the corpus. A colloquial question whose
        words the documents never use (坏了, 多久, 修好) gets little say from BM25."""
        d = self.data
        words = [t for t in d.tokenizer.tokens(query) if not t.startswith(("_", "~"))]
        if not words:
            return 0.0
        return sum(1 for t in words if t in d.bm25.vocab) / len(words)
