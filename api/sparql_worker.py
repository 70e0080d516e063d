"""The worker process side of the SPARQL pool: open the store read-only, then answer jobs
(:mod:`api.sparql_messages`) on a thread with a big stack until the pipe closes."""
from __future__ import annotations

import os
import signal
import sqlite3
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from api.similarity import TextKind
from api.sparql_messages import Done, EmbedRequest, Failed, Failure, Job, Outcome, Ready, StartFailed, Vectors

#: longest next-page URL put in a Link header or a result's head (characters)
MAX_LINK_CHARS = 8000


# -- worker side --------------------------------------------------------------------------------

class WorkerSession:
    """The worker's side of the pipe while a query runs: embedding requests to the parent."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def ask(self, kind: TextKind, texts: list[str]) -> list[np.ndarray | None]:
        self.conn.send(EmbedRequest(kind, texts))
        reply = self.conn.recv()
        return reply.vectors if isinstance(reply, Vectors) else [None] * len(texts)


def next_page_url(job: Job, info) -> str | None:
    """The URL of the rows after the first ``cap``, for a query that does not page itself."""
    from urllib.parse import urlencode

    if job.endpoint is None or info.pages_itself:
        return None
    query = f"{job.query}\nLIMIT {job.cap} OFFSET {job.cap}"
    url = f"{job.endpoint}?{urlencode([('query', query), *job.dataset_params])}"
    return url if len(url) <= MAX_LINK_CHARS else None


def run_job(store, similarity, job: Job) -> Done | Failed:
    """Execute one job in the worker (on a big stack); the message to send back. A query that calls
    ``bkg:similarity`` runs twice: first to collect the texts it compares (their vectors are then
    fetched in one batch), then for its result."""
    import pyoxigraph as ox

    from api.similarity import TextRecorder
    from api.sparql import (SIMILARITY_IRI, NotAcceptable, QueryInvalid, QueryRefused, drain, execute,
                            first_variable_iris, negotiate, prepare, serialize_capped)

    t0 = time.perf_counter()
    fn = ox.NamedNode(SIMILARITY_IRI)
    graphs = {"base": job.base, "default_graphs": list(job.default_graphs), "named_graphs": list(job.named_graphs)}
    try:
        info = prepare(job.query, job.base)
        fmt = None if job.iris_only else negotiate(info.form, job.accept, job.fmt)
        if info.uses_similarity:
            similarity.queries = {}
            similarity.load_queries(info.similarity_texts)
            recorder = TextRecorder()
            drain(execute(store, job.query, custom_functions={fn: recorder}, info=info, **graphs))
            similarity.prefetch(list(recorder.texts))
        result = execute(store, job.query, custom_functions={fn: similarity}, info=info, **graphs)
        if fmt is None:
            return Done(Outcome(iris=first_variable_iris(result), form=info.form, seconds=time.perf_counter() - t0))
        next_page = next_page_url(job, info)
        s = serialize_capped(result, fmt, job.cap, next_page)
        return Done(Outcome(s.body, s.media, s.rows, s.truncated, form=info.form, seconds=time.perf_counter() - t0,
                            next_page=next_page if s.truncated else None))
    except QueryInvalid as exc:
        return Failed(Failure.INVALID, str(exc))
    except QueryRefused as exc:
        return Failed(Failure.REFUSED, str(exc))
    except NotAcceptable as exc:
        return Failed(Failure.NOT_ACCEPTABLE, str(exc))
    except (OSError, ValueError, TypeError, RuntimeError, MemoryError, RecursionError, sqlite3.Error) as exc:
        return Failed(Failure.FAILED, f"{type(exc).__name__}: {exc}")


def worker_main(conn: Connection, data_dir: str, model: str, remote=None) -> None:
    """Entry point of a worker process: open the store read-only, then answer jobs until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops its workers
    from api.similarity import Similarity
    from api.sparql_check import on_big_stack, prepare
    from index.embedder import EmbeddingCache
    from ingest.errors import StoreError
    from ingest.store import open_store

    def serve() -> None:
        # opened on the thread that uses them (SQLite connections belong to their thread)
        try:
            store = open_store(Path(data_dir), read_only=True, remote=remote)
            cache = EmbeddingCache(Path(data_dir) / "embeddings.sqlite")
        except (StoreError, OSError, sqlite3.Error) as exc:
            conn.send(StartFailed(f"{type(exc).__name__}: {exc}"))
            return
        similarity = Similarity(cache, model, WorkerSession(conn).ask)
        try:
            prepare("ASK {}")  # loads the parsers before the first real query
            conn.send(Ready(os.getpid()))
            while True:
                try:
                    job = conn.recv()
                except (EOFError, OSError):
                    return
                if job is None:
                    return
                conn.send(run_job(store, similarity, job))
        finally:
            cache.close()
            store.close()

    on_big_stack(serve)
