"""``bkg:similarity(?text, "query")`` — the SPARQL extension function — and the embeddings it needs.

Worker side (:class:`Similarity`, :class:`TextRecorder`): the function evaluated by Oxigraph inside a
SPARQL worker process. Passage vectors come from the index's embedding cache
(``<data>/embeddings.sqlite``); query vectors and passages the cache does not hold are asked of the
parent through a callable (the worker never loads a model).

Parent side (:class:`QueryEmbeddings`): the server's loaded model embeds what workers ask for, in
chunks, one batch at a time across all workers (:data:`EMBED_SLOTS`), on the threads that talk to the
workers — never on the event loop — and remembers the vectors.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from enum import Enum

import numpy as np
import pyoxigraph as ox

from api.cache import LRU
from index.embedder import text_key
from index.texts import indexed_text

log = logging.getLogger("budgetkg.sparql")

XSD_DOUBLE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")
#: passage vectors a worker keeps between queries
WORKER_PASSAGES = 50_000
#: vectors the parent remembers (both kinds)
PARENT_VECTORS = 20_000
#: texts embedded at once by the parent (~1 s of CPU), so that a deadline is looked at between chunks
EMBED_CHUNK = 32
#: similarity batches embedding at the same time in the parent: one, so that the other core keeps
#: answering searches (a big batch for one query took search p50 from 86 ms to 5.4 s)
EMBED_SLOTS = threading.BoundedSemaphore(1)


class TextKind(Enum):
    """How e5 embeds a text: as a question or as a passage (different prompts)."""

    QUERY = "query"
    PASSAGE = "passage"


#: ``ask(kind, texts)`` → one vector (or None when it cannot be had) per text
Ask = Callable[[TextKind, list[str]], list["np.ndarray | None"]]


# -- worker side --------------------------------------------------------------------------------

class Similarity:
    """The function: cosine of the e5 passage vector of ``?text`` and the query vector of
    ``"query"``, as ``xsd:double``. An argument that is not a literal → unbound."""

    def __init__(self, cache, model: str, ask: Ask):
        self.cache = cache
        self.model = model
        self.ask = ask
        self.queries: dict[str, np.ndarray] = {}
        self.passages = LRU(WORKER_PASSAGES)

    def __call__(self, text, query):
        if not isinstance(text, ox.Literal) or not isinstance(query, ox.Literal):
            return None
        q = self.query_vector(query.value)
        p = self.passage_vector(text.value)
        if q is None or p is None:
            return None
        return ox.Literal(repr(round(float(np.dot(p, q)), 6)), datatype=XSD_DOUBLE)

    def load_queries(self, texts: Iterable[str]) -> None:
        """Query vectors for the literal query texts of a query, in one request before it runs."""
        todo = [t for t in dict.fromkeys(texts) if t not in self.queries]
        if todo:
            for t, v in zip(todo, self.ask(TextKind.QUERY, todo)):
                if v is not None:
                    self.queries[t] = v

    def query_vector(self, text: str) -> np.ndarray | None:
        if text not in self.queries:
            self.load_queries([text])
        return self.queries.get(text)

    def passage_vector(self, text: str) -> np.ndarray | None:
        if text not in self.passages:
            self.prefetch([text])
        return self.passages.get(text)

    def prefetch(self, texts) -> None:
        """Passage vectors for many texts at once: one cache lookup, one batch for the parent."""
        todo = [t for t in dict.fromkeys(texts) if t not in self.passages]
        found = self.cached(todo)
        missing = [t for t in todo if t not in found]
        if missing:
            found.update((t, v) for t, v in zip(missing, self.ask(TextKind.PASSAGE, missing)) if v is not None)
        for t, v in found.items():
            self.passages.remember(t, v)

    def cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The index's vectors of these texts: as given, or as the index cuts long texts."""
        keys = {t: list(dict.fromkeys([text_key(t), text_key(indexed_text(t))])) for t in texts}
        found = self.cache.get_many(self.model, list({k for ks in keys.values() for k in ks}))
        out = {}
        for t, ks in keys.items():
            hit = next((k for k in ks if k in found), None)
            if hit is not None:
                out[t] = found[hit]
        return out


class TextRecorder:
    """Stands in for :class:`Similarity` in a first pass over a query: records the texts the
    function is called with (and returns nothing), so that their vectors can be fetched in one go."""

    def __init__(self):
        self.texts: dict[str, None] = {}  # distinct, in the order met

    def __call__(self, text, query):
        if isinstance(text, ox.Literal):
            self.texts[text.value] = None
        return None


# -- parent side --------------------------------------------------------------------------------

class EmbeddingDeadline(Exception):
    """The deadline passed while texts were being embedded for a worker."""


class QueryEmbeddings:
    """Vectors for the similarity function, computed by the server's loaded model and remembered.
    ``embed(kind, texts, deadline)`` is called from the threads that serve workers."""

    def __init__(self, engine):
        self.engine = engine
        self.memory = LRU(PARENT_VECTORS)
        self.lock = threading.Lock()

    def embed(self, kind: TextKind, texts: list[str], deadline: float | None = None) -> list[np.ndarray | None]:
        """One vector (or None) per text; EmbeddingDeadline if ``deadline`` (time.monotonic()) passes."""
        with self.lock:
            known = {t: self.memory[(kind, t)] for t in texts if (kind, t) in self.memory}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        for i in range(0, len(todo), EMBED_CHUNK):
            chunk = todo[i:i + EMBED_CHUNK]
            with EMBED_SLOTS:
                if deadline is not None and time.monotonic() > deadline:
                    raise EmbeddingDeadline(f"{len(todo) - i} of {len(todo)} texts were still to embed")
                vectors = self._embed_chunk(kind, chunk)
            with self.lock:
                for t, v in zip(chunk, vectors):
                    if v is not None:
                        known[t] = self.memory.remember((kind, t), v)
        return [known.get(t) for t in texts]

    def _embed_chunk(self, kind: TextKind, texts: list[str]) -> list[np.ndarray | None]:
        from index.embedder import EmbedderError

        try:
            if self.engine.embedder is None:
                self.engine.embed_query("")  # loads the model once
            embedder = self.engine.embedder
            return list(embedder.queries(texts) if kind is TextKind.QUERY else embedder.passages(texts))
        except (EmbedderError, OSError, RuntimeError, ValueError) as exc:
            log.warning("cannot embed %d %s texts for bkg:similarity: %s", len(texts), kind.value, exc)
            return [None] * len(texts)
