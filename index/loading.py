"""Loading a built index (see :mod:`index.build` for the files) into arrays the rankers share.

Everything a query looks at per item is computed here once (kinds, years, amounts, region chains,
units as small integer ids), so that filters are array lookups, never loops over items per query
(measured at 50k items: a town filter went from a Python loop over every item to one array lookup).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .build import FIELDS, INDEX_VERSION, expected_model_name, index_dir, read_manifest
from .lexical import BM25Index, Tokenizer
from .texts import FIELD_WEIGHTS, Item

#: kinds of item a search returns (budget units' department targets are items only as owners)
KINDS = ("project", "indicator", "task", "line")
#: extra keys of an item that its result object shows
RESULT_EXTRA = ("level1", "level2", "annual_target", "period_target", "type", "code", "scheme", "level", "flow", "table")


class IndexUnavailable(Exception):
    """No usable index: missing, built by another model, or of another version."""


class IndexData:
    """The files of one built index, loaded (vectors and FAISS memory-mapped)."""

    def __init__(self, data_dir: Path):
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
        self._load_passages(d)
        self._load_groups(d)
        import faiss

        self.faiss = faiss.read_index(str(d / "faiss.index"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        pr = np.load(d / "profiles.npz")
        self.profile_items = pr["items"]
        self.profiles = {g: pr[g] for g in ("name", "goal", "indicator")}
        self.tokenizer_words = json.loads((d / "userdict.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer(self.tokenizer_words)
        self.bm25 = BM25Index.load(d / "bm25")
        self._item_arrays()
        self.lexicon = None
        lex = d / "lexicon.json"
        if lex.exists():
            from .understand import Lexicon

            self.lexicon = Lexicon.from_json(json.loads(lex.read_text(encoding="utf-8")))

    def _load_passages(self, d: Path) -> None:
        p = np.load(d / "passages.npz")
        self.p_item, self.p_field, self.p_text = p["item"], p["field"], p["text"]
        self.p_start = np.searchsorted(self.p_item, np.arange(len(self.items)))
        self.field_w = np.asarray([FIELD_WEIGHTS[f] for f in FIELDS], dtype=np.float32)
        self.vectors = np.load(d / "vectors.npy", mmap_mode="r")

    def _load_groups(self, d: Path) -> None:
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
        width = max(1, self.vectors.shape[0])
        pairs, self.g_pair = np.unique(self.g_field * width + self.g_text, return_inverse=True)
        self.g_pair = self.g_pair.astype(np.int64).ravel()
        self.pair_field = pairs // width
        self.pair_text = pairs % width

    def _item_arrays(self) -> None:
        self.kinds = np.asarray([it.kind for it in self.items])
        self.years = np.asarray([it.year if it.year is not None else -1 for it in self.items])
        self.amounts = np.asarray([float(it.amount) if it.amount is not None else np.nan for it in self.items])
        # an indicator has no amount of its own: an amount asked of indicators is its project's
        owner = [self.by_iri.get((it.project or {}).get("iri")) if it.kind == "indicator" else None for it in self.items]
        self.owner_amounts = np.asarray([self.amounts[o] if o is not None else a for o, a in zip(owner, self.amounts)])
        #: kinds some item of which has an amount
        self.kinds_with_amounts = {it.kind for it in self.items if it.amount is not None}
        # classification concepts of every line: (item, concept id) pairs, for code filters
        concepts: dict[str, int] = {}
        pairs = [(n, concepts.setdefault(c, len(concepts))) for n, it in enumerate(self.items) if it.kind == "line"
                 for c in it.extra.get("codes", ())]
        self.concept_ids = concepts
        self.line_concepts = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        self.searchable = np.isin(self.kinds, KINDS)
        self.is_indicator = self.kinds == "indicator"
        self.is_line = self.kinds == "line"
        chains: dict[tuple[str, ...], int] = {}
        self.chain_id = np.asarray([chains.setdefault(tuple(it.regions), len(chains)) for it in self.items], dtype=np.int32)
        self.chains = list(chains)
        units: dict[str | None, int] = {}
        self.unit_id = np.asarray([units.setdefault(it.unit_iri, len(units)) for it in self.items], dtype=np.int32)
        self.unit_ids = units

    def text_of(self, passage: int) -> str:
        # passages were written item by item, field by field: the k-th passage of an item is its k-th field
        n = int(self.p_item[passage])
        return self.items[n].fields[passage - int(self.p_start[n])][1]

    def result(self, n: int, fused: float, dense: float, lexical: float, best: int) -> dict:
        """The result object of item ``n`` (see CONTRACT.md), ``best`` its best-matching passage or −1."""
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
            out["match"] = {"field": FIELDS[int(self.p_field[best])], "text": self.text_of(best)}
        out.update({k: v for k, v in it.extra.items() if k in RESULT_EXTRA})
        return out
