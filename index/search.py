"""Hybrid search and comparable items over a built index: the engine that puts the parts together.

Ranking: a dense ranking (e5 cosine of the query against every text of an item, the item scored by
its best text weighted by field) and a lexical ranking (jieba BM25 over the item's texts) are fused
by weighted reciprocal rank fusion. Filters (kind, region, year, amount, a SPARQL-selected set of
IRIs) are applied *before* ranking: FAISS searches only the texts of the candidate items
(``IDSelectorBatch``) and BM25 scores only the candidates, so a filter never empties a page that
had matches.

The parts, one module each:

- :mod:`index.loading`    the index files, loaded once into arrays (:class:`IndexData`)
- :mod:`index.planning`   filters from parameters and from the question, candidates, relaxation
- :mod:`index.rankers`    the dense and the lexical ranking
- :mod:`index.fusion`     reciprocal rank fusion of the two, exact without fusing every item
- :mod:`index.comparable` comparable items and why
- :mod:`index.weights`    every weight and threshold, named and documented

Cost per query grows with the distinct texts, not the items: items with the same passages form one
group scored once, items with the same text one BM25 document, and only items near the top of either
ranking are fused (an exact bound says when the rest cannot enter).
"""
from __future__ import annotations

import threading
from dataclasses import replace
from collections.abc import Callable, Generator
from decimal import Decimal
from pathlib import Path

import numpy as np

from .comparable import Comparables
from .embedder import Embedder, QueryBatcher, model_spec
from .fusion import competition_ranks, fuse, top_order
from .loading import KINDS, IndexData, IndexUnavailable
from .planning import MAX_QUESTION_CHARS, Candidates, Filters, ItemSet, Plan, check_length, region_matches
from .rankers import Counts, DenseRanker, LexicalRanker
from .weights import WEIGHTS, Weights

__all__ = ["SearchEngine", "Filters", "ItemSet", "IndexUnavailable", "KINDS", "MAX_QUESTION_CHARS", "drive",
           "region_matches", "top_order", "competition_ranks", "Weights", "WEIGHTS"]


def drive(steps: Generator[str, np.ndarray, dict], embed: Callable[[str], np.ndarray]) -> dict:
    """Run :meth:`SearchEngine.search_steps` to its answer, embedding each text it asks for with ``embed``."""
    try:
        text = next(steps)
        while True:
            text = steps.send(embed(text))
    except StopIteration as done:
        return done.value


class SearchEngine:
    """Everything needed to answer searches, loaded once (model, FAISS, BM25, items)."""

    def __init__(self, data_dir: Path, embedder: Embedder | None = None, load_model: bool = True,
                 weights: Weights = WEIGHTS):
        self.data_dir = Path(data_dir)
        self.data = IndexData(self.data_dir)
        self.weights = weights
        self._counts = Counts(self.data)
        self.candidates_of = Candidates(self.data)
        self.dense = DenseRanker(self.data, self._counts, weights)
        self.lexical = LexicalRanker(self.data, self._counts)
        self.comparables = Comparables(self.data, self.dense, weights)
        self.embedder = embedder
        self._lock = threading.Lock()  # creates the batcher once
        self._batcher: QueryBatcher | None = None
        if load_model and self.embedder is None:
            self.embedder = Embedder(model_spec(), self.data_dir)

    # what callers read of the index
    @property
    def manifest(self) -> dict:
        return self.data.manifest

    @property
    def items(self):
        return self.data.items

    @property
    def by_iri(self) -> dict[str, int]:
        return self.data.by_iri

    @property
    def lexicon(self):
        return self.data.lexicon

    @property
    def tokenizer(self):
        return self.data.tokenizer

    @property
    def tokenizer_words(self) -> list[str]:
        return self.data.tokenizer_words

    @property
    def bm25(self):
        return self.data.bm25

    @property
    def vectors(self):
        return self.data.vectors

    @property
    def n_docs(self) -> int:
        return self.data.n_docs

    # -- candidates ------------------------------------------------------------------------------
    def candidates(self, f: Filters) -> np.ndarray:
        return self.candidates_of.mask(f)

    def item_set(self, iris) -> ItemSet:
        """The items among ``iris`` as an :class:`ItemSet` (one given is checked and returned)."""
        return self.candidates_of.item_set(iris)

    def indices_of(self, iris) -> np.ndarray:
        return self.candidates_of.indices_of(iris)

    # -- questions -------------------------------------------------------------------------------
    def search(self, query: str, kind: str | None = None, town: str | None = None, year: int | None = None,
               top: int = 10, iris: set[str] | ItemSet | None = None, parse: bool = True,
               amount_min: Decimal | None = None, amount_max: Decimal | None = None,
               off: tuple[str, ...] | list[str] = ()) -> dict:
        """Search with filters from explicit parameters and, unless ``parse`` is false, from the words
        of the question itself (explicit parameters win). ``off`` names words the researcher does not
        want read as a filter (they stay search text). ``iris`` — a SPARQL result's IRIs, or an
        :class:`ItemSet` resolved from them — restricts the search to those items. Returns
        ``{"results", "interpretation"}``. Raises :class:`~index.understand.QuestionError` for a
        question that cannot be read (too long, a number out of bounds).

        The same as driving :meth:`search_steps` with :meth:`embed_query`."""
        return drive(self.search_steps(query, kind=kind, town=town, year=year, top=top, iris=iris, parse=parse,
                                       amount_min=amount_min, amount_max=amount_max, off=off), self.embed_query)

    def search_steps(self, query: str, kind: str | None = None, town: str | None = None, year: int | None = None,
                     top: int = 10, iris: set[str] | ItemSet | None = None, parse: bool = True,
                     amount_min: Decimal | None = None, amount_max: Decimal | None = None,
                     off: tuple[str, ...] | list[str] = ()) -> Generator[str, np.ndarray, dict]:
        """:meth:`search` as steps: yields each text whose query vector it needs, is sent the vector,
        and returns the answer. A server runs the steps (CPU work) in its worker threads and gets the
        vectors from the :meth:`query_batcher` in between, so that concurrent searches share model
        calls and no thread waits for the model."""
        check_length(query)
        plan = Plan(query, self.lexicon, kind=kind, town=town, year=year,
                    iris=self.item_set(iris) if iris is not None else None,  # once, also for a relaxed retry
                    amount_min=amount_min, amount_max=amount_max, parse=parse, off=off,
                    kinds_with_amounts=self.data.kinds_with_amounts)
        vecs: dict[str, np.ndarray] = {}  # a relaxed retry ranks the same words again: embed them once

        signals: dict | None = None

        def ranked(text: str, f: Filters) -> Generator[str, np.ndarray, list[dict]]:
            nonlocal signals
            mask = self.candidates(f)
            if not mask.any():
                return []
            if text not in vecs:
                vecs[text] = yield text
            results, signals = self.rank_with_signals(text, f, top=top, qv=vecs[text], mask=mask)
            return results

        f = plan.filters()
        searched = bool(plan.text.strip())
        results = (yield from ranked(plan.text, f)) if searched else self.browse(f, top)
        if not results:
            for _ in plan.relaxations():
                results = yield from ranked(plan.text, plan.filters())
                if results:
                    break
        out: dict = {"results": results}
        if searched and plan.interp is not None and not plan.interp.text.strip():
            # every word was a filter (2080104, 清溪镇2024年的项目): the results are what was asked
            out["match"] = "strong" if results else "none"
        elif searched:
            # how close the best match is (calibrated, see index.weights): "none" says the corpus
            # holds nothing close, whatever the ranking returned
            p = self.weights.match_probability(signals) if results and signals else 0.0
            out["match"] = self.weights.match_level(p)
            out["match_probability"] = round(p, 4)
        if plan.interp is not None:
            out["interpretation"] = plan.interpretation()
        elif plan.notes:
            out["notes"] = plan.notes
        return out

    def browse(self, f: Filters, top: int) -> list[dict]:
        """Filters only, no text: items in document order."""
        cand = np.nonzero(self.candidates(f))[0][:top]
        return [self.data.result(int(n), 0.0, float("nan"), 0.0, -1) for n in cand]

    # -- rankings --------------------------------------------------------------------------------
    def counts(self, mask: np.ndarray, key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self._counts.counts(mask, key)

    def group_scores(self, qv: np.ndarray, cnt_g: np.ndarray, pair_cnt: np.ndarray | None = None):
        return self.dense.group_scores(qv, cnt_g, pair_cnt)

    def text_cosines(self, qv: np.ndarray, cnt_g: np.ndarray) -> tuple[np.ndarray, bool]:
        return self.dense.text_cosines(qv, cnt_g)

    def dense_scores(self, qv: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item scores (−inf where not scored) and, per item, the passage index that scored best."""
        return self.dense.item_scores(qv, mask)

    def lexical_scores(self, query: str, mask: np.ndarray) -> np.ndarray:
        return self.lexical.item_scores(query, mask)

    def lexical_coverage(self, query: str) -> float:
        return self.lexical.coverage(query)

    def rank(self, query: str, f: Filters, top: int = 10, qv: np.ndarray | None = None,
             memo: dict[str, np.ndarray] | None = None, mask: np.ndarray | None = None) -> list[dict]:
        """The top ``top`` candidates of ``f`` for ``query``, dense and lexical rankings fused (see
        :func:`index.fusion.fuse`). ``mask``: the candidates of ``f`` when already computed."""
        return self.rank_with_signals(query, f, top=top, qv=qv, memo=memo, mask=mask)[0]

    def rank_with_signals(self, query: str, f: Filters, top: int = 10, qv: np.ndarray | None = None,
                          memo: dict[str, np.ndarray] | None = None,
                          mask: np.ndarray | None = None) -> tuple[list[dict], dict | None]:
        """:meth:`rank`, and the signals of how close the best match is (the ``match`` of a search,
        see :meth:`index.weights.Weights.match_probability`): ``{"cosine_best": raw cosine of the
        nearest candidate passage, "dense_best": its score against the statistics of every item of
        the kind, "coverage": share of the words the corpus uses, "candidates": how many}`` (None
        without candidates)."""
        if mask is None:
            mask = self.candidates(f)
        if not mask.any():
            return [], None
        if qv is None:
            qv = memo.get(query) if memo is not None else None
            if qv is None:
                qv = self.embed_query(query)
                if memo is not None:
                    memo[query] = qv
        key = Candidates.key(f)
        cnt_g, cnt_d = self._counts.counts(mask, key=key)
        pair_cnt = self._counts.pair_counts(cnt_g, key=key) if key is not None else None
        if f.codes:
            # a code selects lines by the very words ranked: statistics over those lines alone have
            # no spread (identical texts), so the per-field statistics are those without the code
            unc = replace(f, codes=None)
            ukey = Candidates.key(unc)
            pair_cnt = self._counts.pair_counts(self._counts.counts(self.candidates(unc), key=ukey)[0], key=ukey)
        ref = Filters(kind=f.kind)  # how close the best match is, against every item of the kind
        rkey = Candidates.key(ref)
        reference = self._counts.pair_counts(self._counts.counts(self.candidates(ref), key=rkey)[0], key=rkey)
        gs, gbest, best_ref = self.dense.scores_and_best(qv, cnt_g, pair_cnt, reference)
        ls = self.lexical.doc_scores(query, cnt_d)
        cand, fused, order = fuse(self.data, mask, gs, cnt_g, ls, cnt_d, self.lexical.coverage(query), top, self.weights,
                                   lines_asked=bool(f.codes))
        d = self.data
        out = []
        for j in order:
            n = int(cand[j])
            g = d.item_group[n]
            best = int(d.p_start[n] + gbest[g]) if gbest[g] >= 0 else -1
            out.append(d.result(n, float(fused[j]), float(gs[g]), float(ls[d.item_doc[n]]), best))
        signals = {**best_ref, "coverage": self.lexical.coverage(query), "candidates": int(mask.sum())}
        return out, signals

    # -- the model ---------------------------------------------------------------------------------
    def embed_query(self, query: str) -> np.ndarray:
        """The query vector of ``query``, through the :meth:`query_batcher` (so that callers on
        several threads — the web pages, the API — share model calls)."""
        return self.query_batcher().embed(query)

    def query_batcher(self) -> QueryBatcher:
        """The engine's :class:`~index.embedder.QueryBatcher` (loads the model on first use)."""
        if self._batcher is None:
            with self._lock:
                if self._batcher is None:
                    if self.embedder is None:
                        self.embedder = Embedder(model_spec(), self.data_dir)
                    self._batcher = QueryBatcher(self.embedder)
        return self._batcher

    def query_batch_counts(self) -> dict:
        """Model passes made for query vectors, the queries they embedded (0, 0 before the first),
        and whether queries of several lengths share a pass (see :class:`~index.embedder.PackedEncoder`)."""
        b = self._batcher
        return {"calls": b.calls if b else 0, "queries": b.queries if b else 0,
                "packed": bool(self.embedder is not None and self.embedder.packed)}

    # -- comparable items ------------------------------------------------------------------------
    def similar(self, iri: str, other_towns: bool = False, top: int = 10) -> list[dict]:
        return self.comparables.similar(iri, other_towns=other_towns, top=top)
