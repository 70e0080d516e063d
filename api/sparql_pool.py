"""SPARQL queries in worker processes, so that a timeout really stops a query.

pyoxigraph cannot interrupt a running query, so each query of the HTTP layer runs in one of a few
worker processes (``spawn``ed at start-up), each holding the store open read-only. The parent
enforces the timeout: a worker that has not answered in time is killed and replaced, and the
client gets 503 — the server itself never waits on a runaway query.

The worker evaluates ``bkg:similarity(?text, "query")`` (:class:`Similarity`): query texts arrive
with the job, already embedded by the parent; passage vectors come from the index's embedding
cache (``<data>/embeddings.sqlite``); texts that are in neither are sent back to the parent, whose
loaded model embeds them (and remembers them) — the workers never load a model. A query that
calls the function is evaluated twice: a first pass only records the texts it compares, so that
their vectors are looked up and embedded in one batch; the second pass gives the result.

Worker → parent messages: ``("ready", pid)``, ``("embed", "query"|"passage", [texts])`` (answered
with ``("vectors", [array | None, ...])``), ``("done", Outcome)``, ``("error",
"invalid"|"refused"|"failed", message)``.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import signal
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from api.sparql import (SIMILARITY_IRI, QueryInvalid, QueryRefused, execute, first_variable_iris,
                        serialize_capped, uses_similarity)
from index.embedder import text_key
from index.texts import _cut

log = logging.getLogger("budgetkg.sparql")

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
#: worker start-up (imports, opening the store) must not take longer than this
START_TIMEOUT = 60.0
#: texts the parent embeds for a worker between two looks at the deadline (~1 s of CPU)
EMBED_CHUNK = 32


class QueryTimeout(Exception):
    """The query did not finish within the timeout; its worker was killed."""


class PoolBusy(Exception):
    """No worker became free within the timeout."""


class WorkerDied(Exception):
    """The worker process ended while running the query."""


class QueryFailed(Exception):
    """The store could not evaluate the query (an error other than a syntax error)."""


@dataclass
class Job:
    """One query for a worker. ``fmt`` None asks for the IRIs of the first variable instead of a
    serialised result (the ``sparql`` filter of /api/search)."""

    query: str
    fmt: str | None = None
    cap: int = 10_000
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    default_graph: list[str] | None = None
    named_graphs: list[str] | None = None


@dataclass
class Outcome:
    body: bytes = b""
    media: str = ""
    rows: int | None = None
    truncated: bool = False
    iris: list[str] | None = None
    seconds: float = 0.0


# -- worker side ------------------------------------------------------------------------------

class LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def remember(self, key, value):
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class Similarity:
    """``bkg:similarity(?text, "query")``: cosine of the e5 passage vector of ``?text`` and the
    query vector of ``"query"``, as ``xsd:double``. An argument that is not a literal → unbound.

    ``ask(kind, texts)`` asks the parent to embed texts (``"query"`` or ``"passage"``); it is
    called once per query for the texts :meth:`prefetch` found missing, and once per text met
    only while the query runs."""

    def __init__(self, cache, model: str, ask: Callable[[str, list[str]], list[np.ndarray | None]]):
        self.cache = cache
        self.model = model
        self.ask = ask
        self.queries: dict[str, np.ndarray] = {}
        self.passages = LRU(50_000)

    def __call__(self, text, query):
        if not isinstance(text, ox.Literal) or not isinstance(query, ox.Literal):
            return None
        q = self.query_vector(query.value)
        p = self.passage_vector(text.value)
        if q is None or p is None:
            return None
        return ox.Literal(repr(round(float(np.dot(p, q)), 6)), datatype=ox.NamedNode(XSD_DOUBLE))

    def query_vector(self, text: str) -> np.ndarray | None:
        if text not in self.queries:
            v = self.ask("query", [text])[0]
            if v is None:
                return None
            self.queries[text] = v
        return self.queries[text]

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
            found.update((t, v) for t, v in zip(missing, self.ask("passage", missing)) if v is not None)
        for t, v in found.items():
            self.passages.remember(t, v)

    def cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The index's vectors of these texts: as given, or as the index cuts long texts."""
        keys = {t: list(dict.fromkeys([text_key(t), text_key(_cut(t))])) for t in texts}
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


def drain(result) -> None:
    """Evaluate a query result completely, discarding it."""
    if result.form == "ASK":
        bool(result.value)
    else:
        for _ in result.value:
            pass


class WorkerSession:
    """The worker's side of one query: the RPC back to the parent while the query runs."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def ask(self, kind: str, texts: list[str]) -> list[np.ndarray | None]:
        self.conn.send(("embed", kind, texts))
        reply = self.conn.recv()
        return reply[1] if reply and reply[0] == "vectors" else [None] * len(texts)


def run_job(store, similarity: Similarity, job: Job) -> tuple:
    """Execute one job in the worker; returns the message to send back. A query that calls
    ``bkg:similarity`` runs twice: first to collect the texts it compares (their vectors are then
    fetched in one batch), then for its result."""
    t0 = time.perf_counter()
    similarity.queries = dict(job.query_vectors)
    graphs = {"default_graph": [ox.NamedNode(g) for g in job.default_graph] if job.default_graph else None,
              "named_graphs": [ox.NamedNode(g) for g in job.named_graphs] if job.named_graphs else None}
    try:
        if uses_similarity(job.query):
            recorder = TextRecorder()
            drain(execute(store, job.query, custom_functions={ox.NamedNode(SIMILARITY_IRI): recorder}, **graphs))
            similarity.prefetch(list(recorder.texts))
        result = execute(store, job.query, custom_functions={ox.NamedNode(SIMILARITY_IRI): similarity}, **graphs)
        if job.fmt is None:
            return ("done", Outcome(iris=first_variable_iris(result), seconds=time.perf_counter() - t0))
        s = serialize_capped(result, job.fmt, job.cap)
        return ("done", Outcome(s.body, s.media, s.rows, s.truncated, seconds=time.perf_counter() - t0))
    except QueryInvalid as exc:
        return ("error", "invalid", str(exc))
    except QueryRefused as exc:
        return ("error", "refused", str(exc))
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        return ("error", "failed", f"{type(exc).__name__}: {exc}")


def worker_main(conn: Connection, data_dir: str, model: str) -> None:
    """Entry point of a worker process: open the store read-only, then answer jobs until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops its workers
    from index.embedder import EmbeddingCache
    from ingest.errors import StoreError
    from ingest.store import open_store

    try:
        store = open_store(Path(data_dir), read_only=True)
        cache = EmbeddingCache(Path(data_dir) / "embeddings.sqlite")
    except (StoreError, OSError, sqlite3.Error) as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    session = WorkerSession(conn)
    similarity = Similarity(cache, model, session.ask)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        conn.send(run_job(store, similarity, job))
    cache.close()
    store.close()


# -- parent side ------------------------------------------------------------------------------

class Worker:
    """A worker process and the parent's end of its pipe."""

    def __init__(self, data_dir: Path, model: str, number: int):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=worker_main, args=(child, str(data_dir), model),
                                   name=f"budgetkg-sparql-{number}", daemon=True)
        self.process.start()
        child.close()
        self.number = number

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise WorkerDied(f"SPARQL worker {self.number} did not start within {timeout:.0f} s")
        try:
            msg = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerDied(f"SPARQL worker {self.number} ended while starting") from exc
        if msg[0] != "ready":
            self.kill()
            raise WorkerDied(f"SPARQL worker {self.number} could not start: {msg[1]}")

    def run(self, job: Job, deadline: float, embed: Callable[[str, list[str]], list]) -> Outcome:
        """Send the job and wait for its outcome until ``deadline`` (time.monotonic()), answering
        the worker's embedding requests meanwhile. Blocking: call it from a thread."""
        self.conn.send(job)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.conn.poll(remaining):
                self.kill()
                raise QueryTimeout("query timed out")
            try:
                msg = self.conn.recv()
            except (EOFError, OSError) as exc:
                self.kill()
                raise WorkerDied(f"SPARQL worker {self.number} ended while running the query "
                                 f"(exit code {self.process.exitcode})") from exc
            if msg[0] == "embed":
                self.conn.send(("vectors", self._embed(embed, msg[1], msg[2], deadline)))
            elif msg[0] == "done":
                return msg[1]
            elif msg[1] == "invalid":
                raise QueryInvalid(msg[2])
            elif msg[1] == "refused":
                raise QueryRefused(msg[2])
            else:
                raise QueryFailed(msg[2])

    def _embed(self, embed: Callable[[str, list[str]], list], kind: str, texts: list[str], deadline: float) -> list:
        """Embed for the worker in chunks, so that the deadline holds while the model works."""
        vectors: list = []
        for i in range(0, len(texts), EMBED_CHUNK):
            if time.monotonic() > deadline:
                self.kill()
                raise QueryTimeout("query timed out while embedding texts for bkg:similarity")
            vectors += embed(kind, texts[i:i + EMBED_CHUNK])
        return vectors

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.conn.close()


class SparqlPool:
    """A few worker processes; :meth:`run` gives a job to a free one and waits at most ``timeout``
    seconds in all (waiting for a free worker included)."""

    def __init__(self, data_dir: Path, model: str, size: int = 2, timeout: float = 30.0,
                 embed: Callable[[str, list[str]], list] = lambda kind, texts: [None] * len(texts)):
        self.data_dir = Path(data_dir)
        self.model = model
        self.size = max(1, size)
        self.timeout = timeout
        self.embed = embed
        self.idle: asyncio.Queue[Worker] | None = None
        self.workers: set[Worker] = set()
        self._numbers = 0
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task] = set()
        self.timeouts = 0

    def _spawn(self) -> Worker:
        with self._lock:
            self._numbers += 1
            number = self._numbers
        w = Worker(self.data_dir, self.model, number)
        w.wait_ready()
        return w

    async def start(self) -> None:
        self.idle = asyncio.Queue()
        workers = await asyncio.gather(*(asyncio.to_thread(self._spawn) for _ in range(self.size)))
        for w in workers:
            self.workers.add(w)
            self.idle.put_nowait(w)

    async def run(self, job: Job) -> Outcome:
        assert self.idle is not None, "SparqlPool.start() was not awaited"
        deadline = time.monotonic() + self.timeout
        try:
            worker = await asyncio.wait_for(self.idle.get(), timeout=self.timeout)
        except TimeoutError as exc:
            raise PoolBusy(f"all {self.size} SPARQL workers stayed busy for {self.timeout:g} s") from exc
        healthy = True
        try:
            return await asyncio.to_thread(worker.run, job, deadline, self.embed)
        except (QueryTimeout, WorkerDied):
            healthy = False
            self.timeouts += 1
            raise
        finally:
            if healthy and worker.alive():
                self.idle.put_nowait(worker)
            else:
                self._replace(worker)

    def _replace(self, worker: Worker) -> None:
        self.workers.discard(worker)
        task = asyncio.get_running_loop().create_task(self._respawn())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _respawn(self, attempts: int = 3) -> None:
        for n in range(attempts):
            try:
                w = await asyncio.to_thread(self._spawn)
            except WorkerDied as exc:
                log.error("cannot replace a SPARQL worker (attempt %d): %s", n + 1, exc)
                await asyncio.sleep(1 + n)
                continue
            self.workers.add(w)
            self.idle.put_nowait(w)
            return

    def alive(self) -> int:
        return sum(1 for w in self.workers if w.alive())

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in list(self.workers)))
        self.workers.clear()
