"""Lexical retrieval: jieba tokens → BM25 (bm25s).

jieba splits 维修（护）费 at its brackets, so texts are first turned into *search keys* (NFKC,
lower case, brackets and quotes removed) and jieba gets a user dictionary of the ontology's
classification names and indicator-level names in the same key form. Labels themselves are never
changed; only these keys are.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import numpy as np

_DROP = re.compile(r"[\s()（）\[\]【】“”\"'‘’《》<>〈〉、，,。．.；;：:！!？?·/／\\|｜—\-_~～…%％+＋=]+")
_HAN = re.compile(r"[\u4e00-\u9fff]{2,}")
_STOPCHARS = frozenset("的了和与及或等是在对为以于将把被由其之中有")
STOPWORDS = frozenset("的 了 和 与 及 或 等 是 在 对 为 以 于 将 把 被 由 其 之 中 有 哪些 哪个 什么 怎么 如何 多少 吗 呢 啊 吧".split())


def search_key(text: str) -> str:
    """Matching form of a text: NFKC, lower case, no brackets/quotes/punctuation."""
    return _DROP.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


class Tokenizer:
    """A private jieba tokenizer with budgetkg's user dictionary (jieba's global one stays untouched)."""

    def __init__(self, words: list[str] | None = None, ngrams: bool = True):
        self.ngrams = ngrams
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.jieba = jieba.Tokenizer()
        self.jieba.initialize()
        for w in words or []:
            k = search_key(w).replace(" ", "")
            if len(k) >= 2:
                self.jieba.add_word(k, freq=2000)

    def tokens(self, text: str) -> list[str]:
        """jieba words (search mode) plus character bigrams and single characters of Chinese runs:
        jieba's dictionary lacks much officialese (外包 comes out as 外 | 包) and paraphrases share
        characters more often than words (修好 / 维修). Measured on the dev queries: jieba alone
        nDCG@10 0.921, + bigrams 0.928, + unigrams 0.949."""
        out = []
        for part in search_key(text).split():
            for tok in self.jieba.lcut_for_search(part):
                tok = tok.strip()
                if tok and tok not in STOPWORDS:
                    out.append(tok)
            if self.ngrams:
                for run in _HAN.findall(part):
                    out.extend("_" + run[i : i + 2] for i in range(len(run) - 1))
                out.extend("~" + ch for ch in part if "\u4e00" <= ch <= "\u9fff" and ch not in _STOPCHARS)
        return out

    def query_tokens(self, text: str, vocab: set[str] | frozenset[str]) -> list[str]:
        """:meth:`tokens` plus the other words of the corpus' vocabulary that the question contains
        where jieba's segmentation went another way: in 做工装 jieba sees 做工 | 装, so the documents'
        工装 (制作工装) matched only through a character bigram. Full mode lists every dictionary word
        of the question; those the corpus uses count as words too (queries only: documents keep one
        segmentation, so their statistics do not change)."""
        out = self.tokens(text)
        seen = set(out)
        for part in search_key(text).split():
            for w in self.jieba.cut(part, cut_all=True):
                if len(w) >= 2 and w not in seen and w in vocab and w not in STOPWORDS:
                    seen.add(w)
                    out.append(w)
        return out


def _weighted_bm25(weights: np.ndarray):
    """A ``bm25s.BM25`` whose corpus statistics count document ``d`` ``weights[d]`` times.

    budgetkg stores each distinct item text once (:func:`index.build.distinct_docs`) but wants the
    scores BM25 would give over all items: document frequencies and mean length are weighted by
    how many items a document stands for. Overrides ``build_index_from_ids``, the extension point
    bm25s documents for building the index differently; the stored score matrix is bm25s's own."""
    import bm25s
    import scipy.sparse as sp
    from bm25s.scoring import (
        _build_idf_array,
        _build_scores_and_indices_for_matrix,
        _select_idf_scorer,
    )

    class WeightedBM25(bm25s.BM25):
        def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False):
            w = np.asarray(weights, dtype=np.float64)
            lengths = np.asarray([len(d) for d in corpus_token_ids], dtype=np.float64)
            avg_doc_len = float((lengths * w).sum() / w.sum())
            n_vocab = len(unique_token_ids)
            plain = np.zeros(n_vocab, dtype=np.int64)  # documents holding each token, as stored
            weighted = np.zeros(n_vocab, dtype=np.float64)  # … and as the items they stand for
            for d, toks in enumerate(corpus_token_ids):
                distinct = list(set(toks))
                plain[distinct] += 1
                weighted[distinct] += w[d]
            idf = _build_idf_array({t: float(weighted[t]) for t in range(n_vocab)}, n_docs=float(w.sum()),
                                   compute_idf_fn=_select_idf_scorer(self.idf_method), dtype=self.dtype)
            scores_flat, doc_idx, vocab_idx = _build_scores_and_indices_for_matrix(
                corpus_token_ids=corpus_token_ids, idf_array=idf, avg_doc_len=avg_doc_len,
                doc_frequencies={t: int(n) for t, n in enumerate(plain)},  # sizes the arrays: one entry per (document, distinct token)
                k1=self.k1, b=self.b, delta=self.delta, show_progress=False, dtype=self.dtype,
                int_dtype=self.int_dtype, method=self.method, nonoccurrence_array=None)
            m = sp.csc_matrix((scores_flat, (doc_idx, vocab_idx)), shape=(len(corpus_token_ids), n_vocab), dtype=self.dtype)
            self.nonoccurrence_array = None
            return {"data": m.data, "indices": m.indices, "indptr": m.indptr, "num_docs": len(corpus_token_ids)}

    return WeightedBM25


class BM25Index:
    """BM25 over items (one document per item: all its texts, its name counted twice); items with
    the same text share one stored document (see :func:`_weighted_bm25`)."""

    def __init__(self, retriever, vocab: set[str]):
        self.retriever = retriever
        self.vocab = vocab

    @classmethod
    def build(cls, docs: list[list[str]], weights: np.ndarray | None = None) -> "BM25Index":
        import bm25s

        if weights is not None and len(weights) != len(docs):
            raise ValueError(f"{len(weights)} weights for {len(docs)} documents")
        factory = bm25s.BM25 if weights is None else _weighted_bm25(weights)
        retriever = factory(k1=1.2, b=0.75)
        retriever.index([d if d else ["∅"] for d in docs], show_progress=False)
        return cls(retriever, set(retriever.vocab_dict))

    def scores(self, query_tokens: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        toks = [t for t in query_tokens if t in self.vocab]
        n = self.retriever.scores["num_docs"]
        if not toks:
            return np.zeros(n, dtype=np.float32)
        s = self.retriever.get_scores(toks, weight_mask=mask)
        return np.asarray(s, dtype=np.float32)

    def save(self, path: Path) -> None:
        self.retriever.save(str(path))
        (path / "budgetkg-vocab.json").write_text(json.dumps(sorted(self.vocab), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "BM25Index":
        import bm25s

        retriever = bm25s.BM25.load(str(path), mmap=True)
        vocab = set(json.loads((path / "budgetkg-vocab.json").read_text(encoding="utf-8")))
        return cls(retriever, vocab)
