"""Hybrid search and comparable items over a built index.

Ranking: a dense ranking (e5 cosine of the query against every text of an item, the item scored by
its best text weighted by field) and a lexical ranking (jieba BM25 over the item's texts) are fused
by weighted reciprocal rank fusion. Filters (kind, region, year, amount, a SPARQL-selected set of
IRIs) are applied *before* ranking: FAISS searches only the texts of the candidate items
(``IDSelectorBatch``) and BM25 scores only the candidates, so a filter never empties a page that
had matches.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from .build import FIELDS, INDEX_VERSION, expected_model_name, index_dir, read_manifest
from .embedder import Embedder, model_spec
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
DENSE_DEPTH = 1000
#: with an approximate index, per-field cosine statistics come from about this many passages per field (exact)
Z_SAMPLE = 8192
#: weight of an item's second-best passage added to its best (evidence from two places counts)
SECOND = 0.3
KINDS = ("project", "indicator", "task")
#: torch threads for embedding one query (see :meth:`SearchEngine.embed_query`)
QUERY_THREADS = 1


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
    iris: set[str] | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    regions: list[str] | None = None  # region labels any of which must be in the item's chain
    units: set[str] | None = None  # budget unit IRIs


def region_matches(query: str, chain: list[str]) -> bool:
    """清溪 matches 清溪镇; 东莞 matches every town of 东莞市 (the chain holds all ancestors)."""
    from ingest.regions import short_name

    q = query.strip()
    return any(q == r or q == short_name(r) or short_name(q) == short_name(r) for r in chain)


def desc_order(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``idx`` ordered by ``values[idx]`` descending, ties by index ascending — what a stable sort of
    ``-values`` gives, from one sort of unique 64-bit keys (float32 bits made order-preserving,
    index below them): measured 4× faster than ``argsort(kind="stable")`` over a million items."""
    if len(idx) == 0:
        return idx
    v = (0.0 - np.asarray(values[idx], dtype=np.float32) + np.float32(0.0)).astype(np.float32).view(np.uint32).astype(np.uint64)
    neg = (v >> np.uint64(31)) == 1
    v = np.where(neg, ~v & np.uint64(0xFFFFFFFF), v | np.uint64(0x80000000))
    keys = (v << np.uint64(32)) | idx.astype(np.uint64)
    return idx[np.argsort(keys)]


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
        self._lock = threading.Lock()
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
            keep = np.zeros(len(self.items), dtype=bool)
            idx = [n for n in map(self.by_iri.get, f.iris) if n is not None]
            keep[np.asarray(idx, dtype=np.int64)] = True
            mask &= keep
        return mask

    # -- questions -------------------------------------------------------------------------------
    def search(self, query: str, kind: str | None = None, town: str | None = None, year: int | None = None,
               top: int = 10, iris: set[str] | None = None, parse: bool = True,
               amount_min: Decimal | None = None, amount_max: Decimal | None = None,
               off: tuple[str, ...] | list[str] = ()) -> dict:
        """Search with filters from explicit parameters and, unless ``parse`` is false, from the words
        of the question itself (explicit parameters win). ``off`` names words the researcher does not
        want read as a filter (they stay search text). Returns ``{"results", "interpretation"}``."""
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
        text = interp.text if interp is not None else query
        f = Filters(kind=kind or "all", town=town, year=year, iris=iris, amount_min=amount_min, amount_max=amount_max)
        notes: list[str] = []
        if interp is not None:
            self._apply(interp, f, explicit={"kind": kind is not None, "town": town is not None,
                                             "year": year is not None, "amount": amount_min is not None or amount_max is not None})
        vecs: dict[str, np.ndarray] = {}  # a relaxed retry ranks the same words again: embed them once
        results = self.rank(text or query, f, top=top, memo=vecs) if (text or query).strip() else self.browse(f, top)
        # a word that is both a place and part of a name must not remove the only matches
        if not results and interp is not None:
            from .understand import relax

            for i, flt in reversed(list(enumerate(interp.filters))):
                if flt.kind in ("region", "unit", "code") and flt.ambiguous:
                    interp = relax(interp, i, note=f"“{flt.source}”既是地名/科目也出现在项目名称中：没有同时满足的结果，已改作检索词")
                    f = Filters(kind=kind or "all", town=town, year=year, iris=iris, amount_min=amount_min, amount_max=amount_max)
                    self._apply(interp, f, explicit={"kind": kind is not None, "town": town is not None,
                                                     "year": year is not None, "amount": amount_min is not None or amount_max is not None})
                    results = self.rank(interp.text or query, f, top=top, memo=vecs)
                    if results:
                        break
        out: dict = {"results": results}
        if interp is not None:
            d = interp.as_dict()
            d["notes"] = d.get("notes", []) + notes
            out["interpretation"] = d
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
    def dense_scores(self, qv: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item scores (−inf where not scored) and, per item, the passage index that scored best."""
        n = len(self.items)
        scores = np.full(n, -np.inf, dtype=np.float32)
        best = np.full(n, -1, dtype=np.int64)
        pmask = mask[self.p_item]
        pidx = np.flatnonzero(pmask)
        if not len(pidx):
            return scores, best
        ptext = self.p_text[pidx]
        ntexts = self.vectors.shape[0]
        if ntexts <= EXACT_LIMIT:
            # few distinct texts (they repeat a lot): every cosine at once is cheaper than choosing
            cos = np.asarray(self.vectors) @ qv
        else:
            tmask = np.zeros(ntexts, dtype=bool)
            tmask[ptext] = True
            tids = np.flatnonzero(tmask)
            cos = np.full(ntexts, -np.inf, dtype=np.float32)
            if len(tids) <= EXACT_LIMIT:
                cos[tids] = np.asarray(self.vectors[tids]) @ qv
            elif len(tids) == ntexts:
                k = min(DENSE_DEPTH, self.faiss.ntotal)
                d, i = self.faiss.search(qv[None, :], k)
                cos[i[0][i[0] >= 0]] = d[0][i[0] >= 0]
            else:
                import faiss

                sel = faiss.IDSelectorBatch(tids.astype(np.int64))
                params = faiss.SearchParameters(sel=sel) if not isinstance(self.faiss, faiss.IndexHNSW) else faiss.SearchParametersHNSW(sel=sel, efSearch=256)
                d, i = self.faiss.search(qv[None, :], min(DENSE_DEPTH, len(tids)), params=params)
                ok = i[0] >= 0
                cos[i[0][ok]] = d[0][ok]
        if not np.isfinite(cos[ptext]).all():
            # texts the approximate index did not return are no nearer than the farthest it did:
            # they get that cosine (an upper bound), so that items keep a finite score and their
            # second passage still counts
            found = cos[np.isfinite(cos)]
            cos[~np.isfinite(cos)] = found.min() if len(found) else 0.0
            approximate = True
        else:
            approximate = False
        pc = cos[ptext].astype(np.float64)
        # standardise per field: short names and long goals have different cosine baselines under
        # e5, so raw cosines would always let names win; z-scores make the fields comparable
        fields = self.p_field[pidx].astype(np.int64)
        if not approximate:
            sf, sc = fields, pc
        else:
            # an approximate index scored only the nearest texts: the field statistics come from an
            # exact sample of the candidate passages instead (measured: hybrid recall@10 against
            # exact 0.69 with statistics of the nearest texts only)
            counts = np.bincount(fields, minlength=len(self.field_w))
            step = np.maximum(1, counts // Z_SAMPLE)  # per field: rare fields are taken whole
            order = np.argsort(fields, kind="stable")
            rank_in_field = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
            sample = np.sort(order[rank_in_field % step[fields[order]] == 0])
            sf = fields[sample]
            sc = (np.asarray(self.vectors[ptext[sample]]) @ qv).astype(np.float64)
        nf = len(self.field_w)
        cnt = np.bincount(sf, minlength=nf)
        s1 = np.bincount(sf, weights=sc, minlength=nf)
        s2 = np.bincount(sf, weights=sc * sc, minlength=nf)
        mu = np.where(cnt > 0, s1 / np.maximum(cnt, 1), 0.0)
        sd = np.sqrt(np.maximum(s2 / np.maximum(cnt, 1) - mu * mu, 0.0))
        sd = np.where((cnt > 1) & (sd > 1e-6), sd, 1.0)
        ps = ((pc - mu[fields]) / sd[fields] * self.field_w[fields]).astype(np.float32)
        # passages are stored item by item: an item's passages are one segment of pidx
        items = self.p_item[pidx]
        starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
        seg_items = items[starts]
        top1 = np.maximum.reduceat(ps, starts)
        seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(ps)]))
        at_max = np.flatnonzero(ps == top1[seg])
        first = at_max[np.r_[True, seg[at_max][1:] != seg[at_max][:-1]]]
        scores[seg_items] = top1
        best[seg_items] = pidx[first]
        if SECOND > 0:
            # evidence from a second, different passage adds to the best one
            rest = ps.copy()
            rest[first] = -np.inf
            top2 = np.maximum.reduceat(rest, starts)
            has2 = np.isfinite(top2) & np.isfinite(top1)
            scores[seg_items[has2]] += SECOND * np.maximum(top2[has2], 0)
        return scores, best

    def lexical_scores(self, query: str, mask: np.ndarray) -> np.ndarray:
        s = self.bm25.scores(self.tokenizer.tokens(query), mask.astype(np.float32))
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
             memo: dict[str, np.ndarray] | None = None) -> list[dict]:
        mask = self.candidates(f)
        if not mask.any():
            return []
        if qv is None:
            qv = memo.get(query) if memo is not None else None
            if qv is None:
                qv = self.embed_query(query)
                if memo is not None:
                    memo[query] = qv
        dense, best = self.dense_scores(qv, mask)
        lex = self.lexical_scores(query, mask)
        cand = np.nonzero(mask)[0]
        d_order = desc_order(dense, cand)
        d_rank = np.empty(len(self.items), dtype=np.int64)
        d_rank[d_order] = np.arange(1, len(d_order) + 1)
        lex_c = cand[lex[cand] > 0]
        l_order = desc_order(lex, lex_c)
        l_rank = np.zeros(len(self.items), dtype=np.int64)
        l_rank[l_order] = np.arange(1, len(l_order) + 1)
        fused = np.zeros(len(self.items), dtype=np.float64)
        fused[cand] = W_DENSE / (RRF_K + d_rank[cand])
        has_lex = l_rank[cand] > 0
        # indicators are short formulaic texts: sharing a generic word (设备, 及时率) says little
        w_lex = W_LEXICAL * self.lexical_coverage(query) * np.where(self.is_indicator[cand[has_lex]], W_LEXICAL_INDICATOR, 1.0)
        fused[cand[has_lex]] += w_lex / (RRF_K + l_rank[cand[has_lex]])
        order = top_order(fused, cand, top)
        return [self.result(int(n), float(fused[n]), float(dense[n]), float(lex[n]), int(best[n]), query) for n in order]

    def embed_query(self, query: str) -> np.ndarray:
        if self.embedder is None:
            self.embedder = Embedder(model_spec(), self.data_dir)
        import torch

        # one short query gains nothing from intra-op threads and loses a lot when the cores are
        # busy (measured on 2 cores under load: p50 ~300 ms with 2 threads, ~23 ms with 1)
        threads = torch.get_num_threads()
        torch.set_num_threads(QUERY_THREADS)
        try:
            return self.embedder.queries([query])[0]
        finally:
            torch.set_num_threads(threads)

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
