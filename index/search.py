"""Hybrid search and comparable items over a built index.

Ranking: a dense ranking (e5 cosine of the query against every text of an item, the item scored by
its best text weighted by field) and a lexical ranking (jieba BM25 over the item's texts) are fused
by weighted reciprocal rank fusion. Filters (kind, region, year, amount, a SPARQL-selected set of
IRIs) are applied *before* ranking: FAISS searches only the texts of the candidate items
(``IDSelectorBatch``) and BM25 scores only the candidates, so a filter never empties a page that
had matches.

Cost per query grows with the distinct texts, not the items: items with the same passages form one
group scored once, items with the same text one BM25 document, and only items near the top of either
ranking are fused (an exact bound says when the rest cannot enter).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from .build import FIELDS, INDEX_VERSION, expected_model_name, index_dir, read_manifest
from .embedder import Embedder, QueryBatcher, model_spec
from .lexical import BM25Index, Tokenizer
from .texts import FIELD_WEIGHTS, Item

#: fusion parameters, chosen on the development queries (bench/search_quality.py)
RRF_K = 60
W_DENSE = 1.0
W_LEXICAL = 1.0
W_LEXICAL_INDICATOR = 0.5
#: thresholds for saying *why* two projects are comparable (raw e5 cosines)
SHARED_INDICATOR_COS = 0.95
SIMILAR_NAME_COS = 0.95
SIMILAR_GOAL_COS = 0.93
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
#: weight of an item's second-best passage added to its best (evidence from two places counts)
SECOND = 0.3
KINDS = ("project", "indicator", "task")
#: characters of a question at most (the API and the pages refuse longer ones before asking)
MAX_QUESTION_CHARS = 1000


def _bigrams(text: str) -> set[str]:
    from .lexical import search_key

    k = search_key(text).replace(" ", "")
    return {k[i : i + 2] for i in range(len(k) - 1)}


class IndexUnavailable(Exception):
    """No usable index: missing, built by another model, or of another version."""


@dataclass
class Filters:
    """Structured filters, applied before ranking (explicit parameters and words of the question alike)."""

    kind: str = "all"
    town: str | None = None
    year: int | None = None
    years: tuple[int, int] | None = None  # inclusive range
    iris: set[str] | ItemSet | None = None  # a SPARQL result's IRIs, or those resolved once
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    regions: list[str] | None = None  # region labels any of which must be in the item's chain
    units: set[str] | None = None  # budget unit IRIs


@dataclass(frozen=True, eq=False)
class ItemSet:
    """The items among the IRIs of a SPARQL result (the ``sparql`` filter), resolved to a mask over
    the index once by :meth:`SearchEngine.item_set`, so that every search it restricts — a batch,
    a relaxed retry, the same filter asked again — skips touching each IRI string again."""

    mask: np.ndarray  # bool per item of the engine that resolved it
    iris: int  # IRIs in the result, items or not (what the API reports as ``sparql_candidates``)

    @property
    def items(self) -> int:
        return int(self.mask.sum())


def drive(steps: Generator[str, np.ndarray, dict], embed: Callable[[str], np.ndarray]) -> dict:
    """Run :meth:`SearchEngine.search_steps` to its answer, embedding each text it asks for with ``embed``."""
    try:
        text = next(steps)
        while True:
            text = steps.send(embed(text))
    except StopIteration as done:
        return done.value


def region_matches(query: str, chain: list[str]) -> bool:
    """清溪 matches 清溪镇; 东莞 matches every town of 东莞市 (the chain holds all ancestors)."""
    from ingest.regions import short_name

    q = query.strip()
    return any(q == r or q == short_name(r) or short_name(q) == short_name(r) for r in chain)


def top_order(values: np.ndarray, idx: np.ndarray, top: int) -> np.ndarray:
    """The first ``top`` of ``idx`` by ``values`` descending, ties by index (exact; partial sort)."""
    if len(idx) <= top:
        return idx[np.lexsort((idx, -values[idx]))]
    v = values[idx]
    kth = np.partition(v, len(v) - top)[len(v) - top]
    keep = idx[v >= kth]  # ties with the top-th value stay in, the sort decides among them
    return keep[np.lexsort((keep, -values[keep]))][:top]


class SearchEngine:
    """Everything needed to answer searches, loaded once (model, FAISS, BM25, items)."""

    def __init__(self, data_dir: Path, embedder: Embedder | None = None, load_model: bool = True):
        self.data_dir = Path(data_dir)
        d = index_dir(self.data_dir)
        m = read_manifest(self.data_dir)
        if m is None:
            raise IndexUnavailable(f"{d}: no search index (run `budgetkg ingest` on this data directory)")
        if m.get("version") != INDEX_VERSION:
            raise IndexUnavailable(f"{d}: index version {m.get('version')} is not {INDEX_VERSION}; re-run `budgetkg ingest`")
        if m.get("model") != expected_model_name():
            raise IndexUnavailable(
                f"{d}: the index was built with model {m.get('model')!r} but BUDGETKG_MODEL selects "
                f"{expected_model_name()!r}; vectors of two models are never mixed — run `budgetkg reindex`")
        self.manifest = m
        self.items = [Item.from_json(x) for x in json.loads((d / "items.json").read_text(encoding="utf-8"))]
        self.by_iri = {it.iri: n for n, it in enumerate(self.items)}
        p = np.load(d / "passages.npz")
        self.p_item, self.p_field, self.p_text = p["item"], p["field"], p["text"]
        self.p_start = np.searchsorted(self.p_item, np.arange(len(self.items)))
        self.field_w = np.asarray([FIELD_WEIGHTS[f] for f in FIELDS], dtype=np.float32)
        self.vectors = np.load(d / "vectors.npy", mmap_mode="r")
        g = np.load(d / "groups.npz")
        self.item_group, self.item_doc = g["item_group"], g["item_doc"]
        self.g_start, self.g_text = g["g_start"], g["g_text"]
        self.g_field = g["g_field"].astype(np.int64)
        self.n_groups = len(self.g_start) - 1
        self.n_docs = int(self.item_doc.max()) + 1 if len(self.item_doc) else 0
        g_len = np.diff(self.g_start)
        self.g_of_passage = np.repeat(np.arange(self.n_groups), g_len)
        self.g_nonempty = np.flatnonzero(g_len > 0)
        self.ne_seg = np.repeat(np.arange(len(self.g_nonempty)), g_len[self.g_nonempty])  # passage → its non-empty group
        # distinct (field, text) pairs of the groups' passages
        pairs, self.g_pair = np.unique(self.g_field * max(1, self.vectors.shape[0]) + self.g_text, return_inverse=True)
        self.g_pair = self.g_pair.astype(np.int64).ravel()
        self.pair_field = pairs // max(1, self.vectors.shape[0])
        self.pair_text = pairs % max(1, self.vectors.shape[0])
        self._counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._pair_counts: dict[str, np.ndarray] = {}
        import faiss

        self.faiss = faiss.read_index(str(d / "faiss.index"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        pr = np.load(d / "profiles.npz")
        self.profile_items = pr["items"]
        self.profiles = {g: pr[g] for g in ("name", "goal", "indicator")}
        self.tokenizer_words = json.loads((d / "userdict.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer(self.tokenizer_words)
        self.bm25 = BM25Index.load(d / "bm25")
        self.kinds = np.asarray([it.kind for it in self.items])
        self.years = np.asarray([it.year if it.year is not None else -1 for it in self.items])
        self.amounts = np.asarray([float(it.amount) if it.amount is not None else np.nan for it in self.items])
        # filters look at these per query: computed once here, not per item per query (measured at
        # 50k items: a town filter went from a Python loop over every item to one array lookup)
        self.searchable = np.isin(self.kinds, KINDS)
        self.is_indicator = self.kinds == "indicator"
        self._kind_masks: dict[str, np.ndarray] = {}
        chains: dict[tuple[str, ...], int] = {}
        self.chain_id = np.asarray([chains.setdefault(tuple(it.regions), len(chains)) for it in self.items], dtype=np.int32)
        self.chains = list(chains)
        units: dict[str | None, int] = {}
        self.unit_id = np.asarray([units.setdefault(it.unit_iri, len(units)) for it in self.items], dtype=np.int32)
        self.unit_ids = units
        self.lexicon = None
        lex = d / "lexicon.json"
        if lex.exists():
            from .understand import Lexicon

            self.lexicon = Lexicon.from_json(json.loads(lex.read_text(encoding="utf-8")))
        self.embedder = embedder
        self._lock = threading.Lock()  # creates the batcher once
        self._batcher: QueryBatcher | None = None
        if load_model and self.embedder is None:
            self.embedder = Embedder(model_spec(), self.data_dir)

    # -- candidates ------------------------------------------------------------------------------
    def candidates(self, f: Filters) -> np.ndarray:
        if f.kind != "all":
            if f.kind not in self._kind_masks:
                self._kind_masks[f.kind] = self.kinds == f.kind
            mask = self._kind_masks[f.kind].copy()
        else:
            mask = self.searchable.copy()
        if f.year is not None:
            mask &= self.years == f.year
        if f.years is not None:
            mask &= (self.years >= f.years[0]) & (self.years <= f.years[1])
        if f.units:
            ids = [self.unit_ids[u] for u in f.units if u in self.unit_ids]
            mask &= np.isin(self.unit_id, np.asarray(ids, dtype=np.int32))
        if f.town:
            ok = np.asarray([region_matches(f.town, list(c)) for c in self.chains] or [False])
            mask &= ok[self.chain_id]
        if f.regions:
            wanted = set(f.regions)
            ok = np.asarray([bool(wanted.intersection(c)) for c in self.chains] or [False])
            mask &= ok[self.chain_id]
        if f.amount_min is not None:
            a = np.nan_to_num(self.amounts, nan=-np.inf)
            mask &= (a >= float(f.amount_min)) if f.min_inclusive else (a > float(f.amount_min))
        if f.amount_max is not None:
            a = np.nan_to_num(self.amounts, nan=np.inf)
            mask &= (a <= float(f.amount_max)) if f.max_inclusive else (a < float(f.amount_max))
        if f.iris is not None:
            mask &= self.item_set(f.iris).mask
        return mask

    def item_set(self, iris) -> ItemSet:
        """The items among ``iris`` as an :class:`ItemSet` (one given is checked and returned)."""
        if isinstance(iris, ItemSet):
            if len(iris.mask) != len(self.items):
                raise ValueError(f"an ItemSet of {len(iris.mask)} items cannot restrict an index of {len(self.items)}")
            return iris
        if not isinstance(iris, (set, frozenset, dict)):
            iris = set(iris)  # count each IRI once, as a set does
        keep = np.zeros(len(self.items), dtype=bool)
        keep[self.indices_of(iris)] = True
        return ItemSet(mask=keep, iris=len(iris))

    def indices_of(self, iris) -> np.ndarray:
        """Item indices of those of ``iris`` that are items (a SPARQL result holds other IRIs too).
        Memory-bound: every IRI string is touched once, ~150–300 ns each when the caches are cold
        (13k IRIs: 2–4 ms); a vectorised lookup by string hash measured no faster, as hashing touches
        the same strings."""
        get = self.by_iri.get
        return np.fromiter((n for n in map(get, iris) if n is not None), dtype=np.int64)

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
        if len(query) > MAX_QUESTION_CHARS:
            from .understand import QuestionError

            raise QuestionError(f"问题过长（{len(query)} 字），请不超过 {MAX_QUESTION_CHARS} 字",
                                f"the question has {len(query)} characters; at most {MAX_QUESTION_CHARS}")
        if iris is not None:
            iris = self.item_set(iris)  # once, also for a relaxed retry below
        interp = None
        if parse and self.lexicon is not None and query.strip():
            from .understand import relax, understand

            interp = understand(query, self.lexicon)
            for i in reversed(range(len(interp.filters))):
                flt = interp.filters[i]
                if flt.source in off:
                    interp = relax(interp, i, note=f"“{flt.source}”按检索词处理（已取消该筛选）")
                elif flt.kind == "code":
                    # projects and indicators are not filed under classification codes: the code's
                    # name says what the question is about, so it stays in the text to rank by
                    interp = relax(interp, i, note=f"“{flt.source}”是预算科目（{flt.label}）：项目不按科目编列，按检索词处理")
        explicit = {"kind": kind is not None, "town": town is not None, "year": year is not None,
                    "amount": amount_min is not None or amount_max is not None}

        def filters_of(interp) -> Filters:
            f = Filters(kind=kind or "all", town=town, year=year, iris=iris, amount_min=amount_min, amount_max=amount_max)
            if interp is not None:
                self._apply(interp, f, explicit=explicit)
            return f

        vecs: dict[str, np.ndarray] = {}  # a relaxed retry ranks the same words again: embed them once

        def ranked(text: str, f: Filters) -> Generator[str, np.ndarray, list[dict]]:
            mask = self.candidates(f)
            if not mask.any():
                return []
            if text not in vecs:
                vecs[text] = yield text
            return self.rank(text, f, top=top, qv=vecs[text], mask=mask)

        text = interp.text if interp is not None else query
        f = filters_of(interp)
        results = (yield from ranked(text or query, f)) if (text or query).strip() else self.browse(f, top)
        # a word that is both a place and part of a name must not remove the only matches
        if not results and interp is not None:
            from .understand import relax

            for i, flt in reversed(list(enumerate(interp.filters))):
                if flt.kind in ("region", "unit", "code") and flt.ambiguous:
                    interp = relax(interp, i, note=f"“{flt.source}”既是地名/科目也出现在项目名称中：没有同时满足的结果，已改作检索词")
                    results = yield from ranked(interp.text or query, filters_of(interp))
                    if results:
                        break
        out: dict = {"results": results}
        if interp is not None:
            out["interpretation"] = interp.as_dict()
        return out

    def _apply(self, interp, f: Filters, explicit: dict[str, bool]) -> None:
        regions: list[str] = []
        units: set[str] = set()
        for flt in interp.filters:
            if flt.kind == "region" and not explicit["town"]:
                regions.extend(flt.value)
            elif flt.kind == "unit" and not explicit["town"]:
                units.add(flt.value)
            elif flt.kind == "year" and not explicit["year"]:
                a, b = flt.value
                f.years = (max(a, f.years[0]), min(b, f.years[1])) if f.years else (a, b)
            elif flt.kind == "amount" and not explicit["amount"]:
                lo, hi, inc_lo, inc_hi = flt.value
                if lo is not None and (f.amount_min is None or lo > f.amount_min):
                    f.amount_min, f.min_inclusive = lo, inc_lo
                if hi is not None and (f.amount_max is None or hi < f.amount_max):
                    f.amount_max, f.max_inclusive = hi, inc_hi
            elif flt.kind == "kind" and not explicit["kind"]:
                kinds = {x.value for x in interp.filters if x.kind == "kind"}
                f.kind = flt.value if len(kinds) == 1 else "all"
        if regions:
            f.regions = regions
        if units:
            f.units = units

    def browse(self, f: Filters, top: int) -> list[dict]:
        """Filters only, no text: items in document order."""
        cand = np.nonzero(self.candidates(f))[0][:top]
        return [self.result(int(n), 0.0, float("nan"), 0.0, -1, "") for n in cand]

    # -- rankings --------------------------------------------------------------------------------
    # Per query, work is done per *group* of items with the same passages (dense) and per distinct
    # lexical document (BM25), never per item or passage, and only the items that can reach the top
    # are fused (see :meth:`rank`). Measured on the generated 100,000-project corpus (1.04 M items,
    # 2.4 M passages): see bench/run.py and the README's benchmark table.

    def counts(self, mask: np.ndarray, key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Candidate items per passage group and per lexical document. ``key`` names a mask that
        depends only on the kind (no other filter): its counts are computed once and kept."""
        if key is not None and key in self._counts:
            return self._counts[key]
        sel = np.flatnonzero(mask)
        out = (np.bincount(self.item_group[sel], minlength=self.n_groups),
               np.bincount(self.item_doc[sel], minlength=self.n_docs))
        if key is not None:
            self._counts[key] = out
        return out

    def pair_counts(self, cnt_g: np.ndarray, key: str | None = None, passages: np.ndarray | None = None) -> np.ndarray:
        """Candidate passages per distinct (field, text) pair, from the candidate items per group;
        ``passages``: the group passages to count when only those of some groups can have candidates."""
        if key is not None and key in self._pair_counts:
            return self._pair_counts[key]
        pairs, groups = (self.g_pair, self.g_of_passage) if passages is None else (self.g_pair[passages], self.g_of_passage[passages])
        out = np.bincount(pairs, weights=cnt_g[groups], minlength=len(self.pair_text))
        if key is not None:
            self._pair_counts[key] = out
        return out

    def text_cosines(self, qv: np.ndarray, cnt_g: np.ndarray) -> tuple[np.ndarray, bool]:
        """Cosine of the query with every text the candidate groups use; ``True`` when an
        approximate index chose the texts (the others then hold the farthest cosine it returned)."""
        ntexts = self.vectors.shape[0]
        if ntexts <= EXACT_LIMIT:
            # few distinct texts (they repeat a lot): every cosine at once is cheaper than choosing
            return np.asarray(self.vectors) @ qv, False
        tmask = np.zeros(ntexts, dtype=bool)
        tmask[self.g_text[(cnt_g > 0)[self.g_of_passage]]] = True
        tids = np.flatnonzero(tmask)
        cos = np.full(ntexts, -np.inf, dtype=np.float32)
        if len(tids) <= EXACT_LIMIT:
            cos[tids] = np.asarray(self.vectors[tids]) @ qv
            return cos, False
        import faiss

        k = min(DENSE_DEPTH, len(tids))
        sel = faiss.IDSelectorBatch(tids.astype(np.int64)) if len(tids) < ntexts else None
        if isinstance(self.faiss, faiss.IndexHNSW):
            # the farthest text returned must be the k-th nearest, or the cosine given to the texts
            # not returned is no upper bound: HNSW needs a search list well beyond k for a deep k
            # (measured at 100,000 projects: efSearch 256 found 64 % of the true top 1,000 texts)
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, HNSW_EF_FACTOR * k))
        else:
            params = faiss.SearchParameters(sel=sel)
        d, i = self.faiss.search(qv[None, :], k, params=params)
        ok = i[0] >= 0
        cos[i[0][ok]] = d[0][ok]
        # texts the approximate index did not return are no nearer than the farthest it did: they
        # get that cosine, an upper bound, so every group's score is an upper bound of its exact one
        found = cos[tmask & np.isfinite(cos)]
        cos[tmask & ~np.isfinite(cos)] = found.min() if len(found) else 0.0
        return cos, True

    def _field_stats(self, qv: np.ndarray, cos: np.ndarray, pair_cnt: np.ndarray, approximate: bool) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the cosines per field over the candidate items' passages
        (each distinct (field, text) pair weighted by how many candidate passages it is). Short names
        and long goals have different cosine baselines under e5: z-scores per field make them
        comparable (raw cosines would always let names win)."""
        w, fields, texts = pair_cnt, self.pair_field, self.pair_text
        if approximate:
            # an approximate index scored only the nearest texts: the statistics come from an exact
            # sample of the candidate pairs (measured: hybrid recall@10 against exact 0.69 with
            # statistics of the nearest texts only)
            nz = np.flatnonzero(w)
            sample = nz[:: max(1, len(nz) // (Z_SAMPLE * len(self.field_w)))]
            w, fields, texts = w[sample], fields[sample], texts[sample]
            pc = (np.asarray(self.vectors[texts]) @ qv).astype(np.float64)
        else:
            pc = cos[texts].astype(np.float64)
        nf = len(self.field_w)
        cnt = np.bincount(fields, weights=w, minlength=nf)
        s1 = np.bincount(fields, weights=w * pc, minlength=nf)
        s2 = np.bincount(fields, weights=w * pc * pc, minlength=nf)
        mu = np.where(cnt > 0, s1 / np.maximum(cnt, 1), 0.0)
        sd = np.sqrt(np.maximum(s2 / np.maximum(cnt, 1) - mu * mu, 0.0))
        # a single candidate passage has no spread at all
        sd = np.where((cnt > 1) & (sd > 1e-6), sd, 1.0)
        return mu, sd

    def _score_segments(self, ps: np.ndarray, starts: np.ndarray, seg: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per segment of passage scores: best + SECOND × max(second best, 0), and the offset of the
        (first) best passage in its segment. ``seg``: the segment of every passage, when known."""
        top1 = np.maximum.reduceat(ps, starts)
        if seg is None:
            seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(ps)]))
        at_max = np.flatnonzero(ps == top1[seg])
        first = at_max[np.r_[True, seg[at_max][1:] != seg[at_max][:-1]]]
        score = top1.copy()
        if SECOND > 0:
            # evidence from a second, different passage adds to the best one
            rest = ps.copy()
            rest[first] = -np.inf
            top2 = np.maximum.reduceat(rest, starts)
            has2 = np.isfinite(top2) & np.isfinite(top1)
            score[has2] += SECOND * np.maximum(top2[has2], 0)
        return score, first - starts

    def _passages_of(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The passage indices of some groups, group after group, and where each group starts among them."""
        lens = self.g_start[groups + 1] - self.g_start[groups]
        local = np.r_[0, np.cumsum(lens)[:-1]]
        return np.repeat(self.g_start[groups] - local, lens) + np.arange(int(lens.sum())), local

    def group_scores(self, qv: np.ndarray, cnt_g: np.ndarray, pair_cnt: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Dense score of every passage group with candidates (−inf otherwise) and the offset of its
        best passage within the group (−1 when it has none). ``pair_cnt``: candidate passages per
        (field, text) pair (:meth:`pair_counts`), computed when not given."""
        gs = np.full(self.n_groups, -np.inf, dtype=np.float32)
        gbest = np.full(self.n_groups, -1, dtype=np.int64)
        if not cnt_g.any() or not len(self.g_text):
            return gs, gbest
        ne = self.g_nonempty
        active = ne[cnt_g[ne] > 0]
        # a selective filter (a town, a year, a SPARQL set) leaves few groups: score only theirs
        selective = len(active) < SELECTIVE * len(ne)
        if selective:
            pidx, starts = self._passages_of(active)
        if pair_cnt is None:
            pair_cnt = self.pair_counts(cnt_g, passages=pidx if selective else None)
        cos, approximate = self.text_cosines(qv, cnt_g)
        mu, sd = self._field_stats(qv, cos, pair_cnt, approximate)
        zw = self.field_w / sd  # (cos − mu[f]) / sd[f] × w[f], folded per field
        # each distinct (field, text) pair is standardised once, passages just look their pair up
        pair_score = (cos[self.pair_text] * zw[self.pair_field] - (mu * zw)[self.pair_field]).astype(np.float32)
        if selective:
            gs[active], gbest[active] = self._score_segments(pair_score[self.g_pair[pidx]], starts)
        else:
            score, off = self._score_segments(pair_score[self.g_pair], self.g_start[ne], self.ne_seg)
            gs[ne], gbest[ne] = score, off
            gs[cnt_g == 0], gbest[cnt_g == 0] = -np.inf, -1
        if approximate:
            self._rescore(qv, gs, gbest, cnt_g, cos, zw, mu)
        return gs, gbest

    def _rescore(self, qv, gs, gbest, cnt_g, cos, zw, mu, chunk: int = 256) -> None:
        """Exact scores for the dense top ``DENSE_DEPTH`` groups: groups in order of their upper-bound
        score, a chunk at a time, until the ``DENSE_DEPTH``-th best exact score is no lower than the
        next upper bound (then no group left unscored can overtake them)."""
        order = np.flatnonzero(cnt_g > 0)
        order = order[np.argsort(-gs[order], kind="stable")]
        done = np.zeros(self.n_groups, dtype=bool)
        for i in range(0, len(order), chunk):
            batch = order[i : i + chunk]
            batch = batch[self.g_start[batch + 1] > self.g_start[batch]]
            if len(batch):
                pidx, starts = self._passages_of(batch)
                t = self.g_text[pidx]
                uniq, inv = np.unique(t, return_inverse=True)
                exact = np.asarray(self.vectors[uniq]) @ qv
                cos[uniq] = exact
                f = self.g_field[pidx]
                ps = (exact[inv] * zw[f] - (mu * zw)[f]).astype(np.float32)
                gs[batch], gbest[batch] = self._score_segments(ps, starts)
            done[order[i : i + chunk]] = True
            if i + chunk >= len(order):
                break
            # counted in groups, not items: one text repeated by 5,000 items would otherwise fill
            # the depth alone and leave the ranks of everything below it approximate
            ex = np.flatnonzero(done)
            if len(ex) > DENSE_DEPTH and np.partition(-gs[ex], DENSE_DEPTH)[DENSE_DEPTH] <= -gs[order[i + chunk]]:
                break

    @staticmethod
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

    def dense_scores(self, qv: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item scores (−inf where not scored) and, per item, the passage index that scored best."""
        cnt_g, _ = self.counts(mask)
        gs, gbest = self.group_scores(qv, cnt_g)
        scores = np.where(mask, gs[self.item_group], -np.inf).astype(np.float32)
        off = gbest[self.item_group]
        best = np.where(mask & (off >= 0), self.p_start + off, -1)
        return scores, best

    def doc_lexical_scores(self, query: str, cnt_d: np.ndarray) -> np.ndarray:
        """BM25 score of every lexical document with candidate items (0 for the others)."""
        return self.bm25.scores(self.tokenizer.query_tokens(query, self.bm25.vocab), (cnt_d > 0).astype(np.float32))

    def lexical_scores(self, query: str, mask: np.ndarray) -> np.ndarray:
        _, cnt_d = self.counts(mask)
        s = self.doc_lexical_scores(query, cnt_d)[self.item_doc]
        s[~mask] = 0
        return s

    def lexical_coverage(self, query: str) -> float:
        """Share of the query's words that occur anywhere in the corpus. A colloquial question whose
        words the documents never use (坏了, 多久, 修好) gets little say from BM25."""
        words = [t for t in self.tokenizer.tokens(query) if not t.startswith(("_", "~"))]
        if not words:
            return 0.0
        return sum(1 for t in words if t in self.bm25.vocab) / len(words)

    def rank(self, query: str, f: Filters, top: int = 10, qv: np.ndarray | None = None,
             memo: dict[str, np.ndarray] | None = None, mask: np.ndarray | None = None) -> list[dict]:
        """Weighted reciprocal rank fusion of the dense and the lexical ranking (competition ranks:
        equal scores, equal rank), ties by item order. Exact, but only items within the first K of
        either ranking are fused: any other item scores at most (W_DENSE + w_lex) / (RRF_K + K + 1),
        so once the top-th fused score is above that, nothing else can enter; else K grows.
        ``mask``: the candidates of ``f`` when already computed."""
        if mask is None:
            mask = self.candidates(f)
        ncand = int(mask.sum())
        if not ncand:
            return []
        if qv is None:
            qv = memo.get(query) if memo is not None else None
            if qv is None:
                qv = self.embed_query(query)
                if memo is not None:
                    memo[query] = qv
        key = self._mask_key(f)
        cnt_g, cnt_d = self.counts(mask, key=key)
        gs, gbest = self.group_scores(qv, cnt_g, self.pair_counts(cnt_g, key=key) if key is not None else None)
        ls = self.doc_lexical_scores(query, cnt_d)
        g_rank = self.competition_ranks(gs, cnt_g)
        d_rank = self.competition_ranks(ls, cnt_d, positive=True)
        # indicators are short formulaic texts: sharing a generic word (设备, 及时率) says little
        w_lex = W_LEXICAL * self.lexical_coverage(query)
        k = max(8 * top, 100)
        while True:
            near = mask & ((g_rank <= k)[self.item_group] | ((d_rank > 0) & (d_rank <= k))[self.item_doc])
            cand = np.flatnonzero(near)
            dr, lr = g_rank[self.item_group[cand]], d_rank[self.item_doc[cand]]
            wl = w_lex * np.where(self.is_indicator[cand], W_LEXICAL_INDICATOR, 1.0)
            fused = W_DENSE / (RRF_K + dr) + np.where(lr > 0, wl / (RRF_K + np.maximum(lr, 1)), 0.0)
            # cand is in item order, so positions in it break ties as item indices do
            order = top_order(fused, np.arange(len(cand)), top)
            bound = (W_DENSE + w_lex) / (RRF_K + k + 1)
            if len(cand) >= ncand or (len(order) >= top and fused[order[-1]] > bound):
                break
            k *= 4
        out = []
        for j in order:
            n = int(cand[j])
            g = self.item_group[n]
            best = int(self.p_start[n] + gbest[g]) if gbest[g] >= 0 else -1
            out.append(self.result(n, float(fused[j]), float(gs[g]), float(ls[self.item_doc[n]]), best, query))
        return out

    @staticmethod
    def _mask_key(f: Filters) -> str | None:
        """The cache key of a candidate mask that depends on the kind alone (see :meth:`counts`)."""
        plain = (f.town is None and f.year is None and f.years is None and f.iris is None and f.amount_min is None
                 and f.amount_max is None and not f.regions and not f.units)
        return f"kind:{f.kind}" if plain else None

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

    # -- results ---------------------------------------------------------------------------------
    def result(self, n: int, fused: float, dense: float, lexical: float, best: int, query: str) -> dict:
        it = self.items[n]
        out = {
            "iri": it.iri, "kind": it.kind, "name": it.name, "unit": it.unit, "town": it.town,
            "year": it.year, "amount": float(it.amount) if it.amount is not None else None,
            "amount_text": it.amount, "score": round(fused, 6),
            "scores": {"dense": round(dense, 4) if np.isfinite(dense) else None, "lexical": round(lexical, 4),
                       "fused": round(fused, 6)},
            "regions": it.regions, "document": it.document, "lines": it.lines,
        }
        if it.project is not None:
            out["project"] = it.project
        if best >= 0:
            out["match"] = {"field": FIELDS[int(self.p_field[best])], "text": self._text_of(best)}
        out.update({k: v for k, v in it.extra.items() if k in ("level1", "level2", "annual_target", "period_target", "type")})
        return out

    def _text_of(self, passage: int) -> str:
        # passages were written item by item, field by field: the k-th passage of an item is its k-th field
        n = int(self.p_item[passage])
        return self.items[n].fields[passage - int(self.p_start[n])][1]

    # -- comparable items ------------------------------------------------------------------------
    def similar(self, iri: str, other_towns: bool = False, top: int = 10) -> list[dict]:
        if iri not in self.by_iri:
            raise KeyError(iri)
        n = self.by_iri[iri]
        it = self.items[n]
        if it.kind != "project":
            return self._similar_texts(n, other_towns, top)
        pos = {int(x): k for k, x in enumerate(self.profile_items)}
        k0 = pos[n]
        name, goal, ind = (self.profiles[g] for g in ("name", "goal", "indicator"))
        sim = 0.45 * (name @ name[k0]) + 0.35 * (goal @ goal[k0]) + 0.20 * (ind @ ind[k0])
        amounts = self.amounts[self.profile_items]
        a0 = self.amounts[n]
        ratio = np.where(np.isnan(amounts) | np.isnan(a0), 0.5,
                         np.minimum(amounts, a0) / np.maximum(np.maximum(amounts, a0), 1e-9))
        score = sim * (0.92 + 0.08 * ratio)
        out = []
        for k in np.argsort(-score):
            m = int(self.profile_items[k])
            other = self.items[m]
            if m == n or (other_towns and other.town == it.town):
                continue
            res = self.result(m, float(score[k]), float(sim[k]), 0.0, -1, "")
            res["reason"] = self._reason(it, other, float(name[k] @ name[k0]), float(goal[k] @ goal[k0]))
            out.append(res)
            if len(out) >= top:
                break
        return out

    def _similar_texts(self, n: int, other_towns: bool, top: int) -> list[dict]:
        it = self.items[n]
        tids = self.p_text[self.p_item == n]
        qv = np.asarray(self.vectors[tids]).mean(axis=0)
        qv /= np.linalg.norm(qv) or 1
        mask = (self.kinds == it.kind)
        mask[n] = False
        if other_towns:
            mask &= np.asarray([x.town != it.town for x in self.items])
        dense, best = self.dense_scores(qv.astype(np.float32), mask)
        order = np.nonzero(mask)[0]
        order = order[np.argsort(-dense[order])][:top]
        out = []
        for m in order:
            res = self.result(int(m), float(dense[m]), float(dense[m]), 0.0, int(best[m]), "")
            res["reason"] = {"summary": f"文本相似度 {dense[m]:.2f}", "similarity": round(float(dense[m]), 4)}
            out.append(res)
        return out

    def _reason(self, a: Item, b: Item, name_sim: float, goal_sim: float) -> dict:
        """Why two projects are comparable: alike indicators (by meaning), names, goals, scale."""
        ia = [t for f, t in a.fields if f == "indicator"]
        ib = [t for f, t in b.fields if f == "indicator"]
        shared: list[list[str]] = []
        if ia and ib:
            va = self._vectors_for(a, "indicator")
            vb = self._vectors_for(b, "indicator")
            m = va @ vb.T
            used: set[int] = set()
            for i in np.argsort(-m.max(axis=1)):
                j = int(m[i].argmax())
                # e5 cosines crowd near 0.85 even for unrelated texts: only near-paraphrases count
                if m[i, j] < SHARED_INDICATOR_COS or len(shared) >= 3:
                    break
                # e5 also pairs texts that merely share a "(%)": a shared theme shares words too
                if j not in used and _bigrams(ia[i]) & _bigrams(ib[j]):
                    used.add(j)
                    shared.append([ia[i], ib[j]])
        ratio = None
        if a.amount and b.amount and float(a.amount) > 0:
            ratio = round(float(b.amount) / float(a.amount), 2)
        parts = []
        if name_sim >= SIMILAR_NAME_COS:
            parts.append("项目名称相同" if a.name == b.name else "项目名称相近")
        if goal_sim >= SIMILAR_GOAL_COS:
            parts.append("绩效目标相近")
        if shared:
            parts.append("共同指标：" + "、".join(x[1] if x[0] == x[1] else f"{x[0]}≈{x[1]}" for x in shared))
        if ratio is not None:
            parts.append(f"金额为本项目的 {ratio:g} 倍")
        return {"summary": "；".join(parts) or "文本相似", "shared_indicators": shared, "amount_ratio": ratio,
                "name_similarity": round(name_sim, 4), "goal_similarity": round(goal_sim, 4)}

    def _vectors_for(self, item: Item, field: str) -> np.ndarray:
        n = self.by_iri[item.iri]
        sel = (self.p_item == n) & (self.p_field == FIELDS.index(field))
        return np.asarray(self.vectors[self.p_text[sel]])
