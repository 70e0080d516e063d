"""SPARQL queries in worker processes, so that a timeout or a memory limit really stops a query.

pyoxigraph cannot interrupt a running query, so each query of the HTTP layer runs in one of a few
worker processes (``spawn``ed at start-up), each holding the store open read-only. Everything a query
costs happens there: parsing and checking (:func:`api.sparql_check.prepare`), content negotiation,
evaluation and serialisation, on a thread with a big stack (no nesting can overflow it). The parent
enforces the limits: a worker that has not answered by the deadline, or whose resident memory grows
past the limit, is killed and replaced, and the client gets 503 — the server never waits on a runaway
query, and no input can take a worker down with it unnoticed.

Pool (:class:`SparqlPool`): a request waits on a condition for an idle worker (never a fixed sleep).
A worker that died, timed out, went over memory, or whose request was cancelled while it worked, is
never handed out again — a thread may still be reading its pipe, so the next query could receive this
one's answer — it is killed and a replacement is started at once, ahead of the next request; a
monitor replaces idle workers that died too.

The messages (typed dataclasses, pickled over a pipe) are in :mod:`api.sparql_messages`, the worker's
side in :mod:`api.sparql_worker`; this module is the parent's side.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing as mp
import os
import threading
import time
from collections import deque
from pathlib import Path

from api.similarity import EmbeddingDeadline
from api.sparql_messages import (EmbedRequest, Failed, Failure, Job, MemoryExceeded, Outcome, PoolBusy,  # noqa: F401
                                 QueryFailed, QueryTimeout, Ready, Vectors, WorkerDied, Done)
from api.sparql_worker import worker_main

log = logging.getLogger("budgetkg.sparql")

#: worker start-up (imports, opening the store) must not take longer than this
START_TIMEOUT = 60.0
#: how often the parent looks at a busy worker's memory (seconds)
WATCH_INTERVAL = 0.05
#: how often idle workers are checked for being alive (seconds)
MONITOR_INTERVAL = 1.0
#: a replacement that could not start is tried again after this many seconds (doubling)
RESPAWN_BACKOFF = 1.0
#: default resident memory a worker may use (MiB): two workers and the server's model fit in 24 GB many times
DEFAULT_MEMORY_MB = 2048
#: modules a new worker starts with already imported: workers are forked from a server process that
#: loaded them once (``forkserver``), so that a replacement is ready in a fraction of a second rather
#: than the 1–1.5 s a fresh interpreter needs to import them
PRELOAD = ["api.sparql_pool", "api.sparql_worker", "api.sparql", "api.similarity", "rdflib.plugins.sparql.parser",
           "ingest.store", "index.embedder"]



# -- parent side --------------------------------------------------------------------------------

def resident_bytes(pid: int) -> int | None:
    """Resident memory of a process (Linux /proc); None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _context():
    """``forkserver`` with :data:`PRELOAD` where the platform has it, else ``spawn``."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


class Worker:
    """A worker process and the parent's end of its pipe. The pipe is used by one thread at a time
    (:attr:`lock`); :meth:`kill` may be called from any thread."""

    def __init__(self, data_dir: Path, model: str, number: int, remote=None):
        ctx = _context()
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=worker_main, args=(child, str(data_dir), model, remote),
                                   name=f"budgetkg-sparql-{number}", daemon=True)
        self.process.start()
        child.close()
        self.number = number
        self.lock = threading.Lock()
        self.peak = 0  # highest resident memory seen while it ran a query (bytes)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the worker says it is ready; WorkerDied if it does not."""
        with self.lock:
            if not self.conn.poll(timeout):
                self.kill()
                raise WorkerDied(f"SPARQL worker {self.number} did not start within {timeout:.0f} s")
            try:
                msg = self.conn.recv()
            except (EOFError, OSError) as exc:
                self.kill()
                raise WorkerDied(f"SPARQL worker {self.number} ended while starting") from exc
        if not isinstance(msg, Ready):
            self.kill()
            raise WorkerDied(f"SPARQL worker {self.number} could not start: {getattr(msg, 'reason', msg)}")

    def run(self, job: Job, deadline: float, embed, memory_limit: int | None) -> Outcome:
        """Send the job and wait for its outcome until ``deadline`` (time.monotonic()), answering the
        worker's embedding requests and watching its memory meanwhile. Blocking: call it from a thread."""
        from api.sparql import NotAcceptable, QueryInvalid, QueryRefused

        with self.lock:
            self._send(job)
            while True:
                msg = self._receive(deadline, memory_limit)
                if isinstance(msg, EmbedRequest):
                    self._send(Vectors(self._embed(embed, msg, deadline)))
                elif isinstance(msg, Done):
                    return msg.outcome
                elif isinstance(msg, Failed):
                    raise {Failure.INVALID: QueryInvalid, Failure.REFUSED: QueryRefused,
                           Failure.NOT_ACCEPTABLE: NotAcceptable}.get(msg.failure, QueryFailed)(msg.message)
                else:
                    self.kill()
                    raise WorkerDied(f"SPARQL worker {self.number} sent {type(msg).__name__} during a query")

    def _send(self, message) -> None:
        try:
            self.conn.send(message)
        except (OSError, ValueError) as exc:  # the worker is gone (broken pipe, or the pipe was closed)
            self.process.join(1)
            raise WorkerDied(f"SPARQL worker {self.number} ended while running the query "
                             f"(exit code {self.process.exitcode})") from exc

    def _receive(self, deadline: float, memory_limit: int | None):
        """The worker's next message, looking at the clock and its memory every WATCH_INTERVAL."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise QueryTimeout("query timed out")
            if self.conn.poll(min(remaining, WATCH_INTERVAL)):
                try:
                    return self.conn.recv()
                except (EOFError, OSError) as exc:
                    self.process.join(1)
                    raise WorkerDied(f"SPARQL worker {self.number} ended while running the query "
                                     f"(exit code {self.process.exitcode})") from exc
            if memory_limit:
                rss = resident_bytes(self.process.pid) or 0
                self.peak = max(self.peak, rss)
                if rss > memory_limit:
                    self.kill()
                    raise MemoryExceeded(f"the query used more than {memory_limit // 2**20} MiB and was stopped")

    def _embed(self, embed, msg: EmbedRequest, deadline: float) -> list:
        try:
            return embed(msg.kind, msg.texts, deadline)
        except EmbeddingDeadline as exc:
            self.kill()
            raise QueryTimeout(f"query timed out while embedding texts for bkg:similarity ({exc})") from exc

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        """SIGKILL, without waiting (the reader thread, if any, then sees the pipe close)."""
        if self.process.is_alive():
            self.process.kill()

    def reap(self) -> None:
        """After :meth:`kill`: wait for the process and for any thread still using the pipe, close it."""
        self.kill()
        self.process.join(5)
        with self.lock:
            self.conn.close()

    def stop(self) -> None:
        """Ask the worker to finish, and make sure it does."""
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
    """A few worker processes; :meth:`run` gives a job to an idle one and waits at most ``timeout``
    seconds in all (waiting for an idle worker included). One more, started but kept aside
    (:attr:`spare`), takes the place of a retired worker at once; a new spare is started then."""

    def __init__(self, data_dir: Path, model: str, size: int = 2, timeout: float = 30.0,
                 embed=None, memory_mb: int | None = DEFAULT_MEMORY_MB, remote=None):
        self.data_dir = Path(data_dir)
        self.remote = remote  # an ingest.store.RemoteEndpoint the workers query instead of the data directory
        self.model = model
        self.size = max(1, size)
        self.timeout = timeout
        self.embed = embed or (lambda kind, texts, deadline=None: [None] * len(texts))
        self.memory_limit = memory_mb * 2**20 if memory_mb else None
        self.idle: deque[Worker] = deque()
        self.workers: set[Worker] = set()  # in service (idle or busy); the spare is not among them
        self.spare: Worker | None = None
        self.changed: asyncio.Condition | None = None
        self._numbers = itertools.count(1)  # next() is atomic: workers start from several threads
        self._tasks: set[asyncio.Task] = set()
        self._closing = False
        self.replaced = 0  # workers replaced since start (timeouts, memory, deaths, cancellations)

    def _spawn(self) -> Worker:
        w = Worker(self.data_dir, self.model, next(self._numbers), self.remote)
        w.wait_ready()
        return w

    async def start(self) -> None:
        self.changed = asyncio.Condition()
        workers = await asyncio.gather(*(asyncio.to_thread(self._spawn) for _ in range(self.size + 1)))
        self.spare = workers.pop()
        self.workers.update(workers)
        self.idle.extend(workers)
        self._background(self._monitor())

    async def run(self, job: Job) -> Outcome:
        """The job's outcome; QueryInvalid, QueryRefused, NotAcceptable, QueryFailed (the worker stays),
        QueryTimeout, MemoryExceeded, WorkerDied (it is replaced), PoolBusy."""
        from api.sparql import NotAcceptable, QueryInvalid, QueryRefused

        assert self.changed is not None, "SparqlPool.start() was not awaited"
        deadline = time.monotonic() + self.timeout
        worker = await self._acquire(deadline)
        reusable = False
        try:
            outcome = await asyncio.to_thread(worker.run, job, deadline, self.embed, self.memory_limit)
            reusable = True
            return outcome
        except (QueryInvalid, QueryRefused, NotAcceptable, QueryFailed):
            reusable = True  # the worker answered: nothing is left in its pipe
            raise
        finally:
            # anything else — a timeout, a death, or this request cancelled while a thread may still
            # be reading the worker's pipe — retires the worker
            # no await here: a request cancelled now must neither lose the worker nor hand it out twice
            if reusable and worker.alive():
                self.idle.append(worker)
                self._background(self._notify())
            else:
                self._retire(worker)

    async def _acquire(self, deadline: float) -> Worker:
        async with self.changed:
            while True:
                while self.idle:
                    w = self.idle.popleft()
                    if w.alive():
                        return w
                    self._retire(w)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolBusy(f"all {self.size} SPARQL workers stayed busy for {self.timeout:g} s")
                try:
                    await asyncio.wait_for(self.changed.wait(), remaining)
                except TimeoutError:
                    pass

    async def _release(self, worker: Worker) -> None:
        async with self.changed:
            self.idle.append(worker)
            self.changed.notify()

    def _retire(self, worker: Worker) -> None:
        """Kill a worker that may not be reused; the spare takes its place now, ahead of need, and a
        new spare (or, without one, a replacement) starts."""
        worker.kill()
        self.workers.discard(worker)
        self.replaced += 1
        self._background(asyncio.to_thread(worker.reap))
        if self._closing:
            return
        spare, self.spare = self.spare, None
        if spare is not None and spare.alive():
            self.workers.add(spare)
            self.idle.append(spare)
            self._background(self._notify())
            self._background(self._respawn(as_spare=True))
        else:
            self._background(self._respawn(as_spare=False))

    def _background(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify()

    async def _respawn(self, as_spare: bool) -> None:
        delay = RESPAWN_BACKOFF
        while not self._closing:
            try:
                w = await asyncio.to_thread(self._spawn)
            except WorkerDied as exc:
                log.error("cannot start a SPARQL worker (next try in %g s): %s", delay, exc)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            if self._closing:
                await asyncio.to_thread(w.stop)
            elif as_spare and self.spare is None:
                self.spare = w
            else:
                self.workers.add(w)
                await self._release(w)
            return

    async def _monitor(self) -> None:
        """Replace idle workers (and the spare) that died — killed by the system, … — before a
        request meets them."""
        while not self._closing:
            await asyncio.sleep(MONITOR_INTERVAL)
            if self.spare is not None and not self.spare.alive():
                dead, self.spare = self.spare, None
                self._background(asyncio.to_thread(dead.reap))
                self._background(self._respawn(as_spare=True))
            async with self.changed:
                for w in [w for w in self.idle if not w.alive()]:
                    self.idle.remove(w)
                    self._retire(w)

    def alive(self) -> int:
        return sum(1 for w in self.workers if w.alive())

    async def close(self) -> None:
        self._closing = True
        for t in list(self._tasks):
            t.cancel()
        spare = [self.spare] if self.spare is not None else []
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in [*self.workers, *spare]))
        self.workers.clear()
        self.spare = None
        self.idle.clear()
