"""What a running server holds: its :class:`Settings` and one :class:`Runtime` (store, search engine,
SPARQL worker pool, caches), made by the app factory and handed to views by :func:`runtime`.

:class:`Settings` live in :mod:`api.settings` (re-exported here), whose ``from_env`` is where the
environment is read; nothing here writes to ``os.environ``.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

if TYPE_CHECKING:  # the heavy modules load when the runtime starts, not on import
    from api.cache import LRU
    from api.similarity import QueryEmbeddings
    from api.sparql_pool import SparqlPool
    from index.search import SearchEngine
    from ingest.store import GraphStore

from api.settings import Settings

T = TypeVar("T")

#: SPARQL filters of /api/search kept resolved (each an item mask: 1 byte per indexed item)
FILTER_CACHE_SIZE = 32


@dataclass
class Runtime:
    """The loaded resources of one app. Values that cannot change while the server runs (it holds the
    store's write lock) are computed once through :meth:`once`."""

    settings: Settings
    store: "GraphStore"
    engine: "SearchEngine | None"
    filter_cache: "LRU | None"  # None for a shared remote store: others may change it
    sparql: "SparqlPool | None" = None
    query_embeddings: "QueryEmbeddings | None" = None
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> "Runtime":
        from api.cache import LRU
        from index.search import SearchEngine
        from ingest.store import open_store

        # the server holds the store's write lock although it never writes: `budgetkg ingest` into a
        # served data directory is refused with a clear message instead of racing the readers, while
        # read-only CLI commands (`sparql`, `search`) keep working beside it
        store = open_store(settings.data_dir, read_only=False, remote=settings.remote_store())
        try:
            engine = SearchEngine(settings.data_dir, load_model=settings.load_model)
        except BaseException:
            store.close()
            raise
        return cls(settings=settings, store=store, engine=engine,
                   filter_cache=None if store.shared else LRU(FILTER_CACHE_SIZE))

    async def start_sparql(self) -> None:
        """Start the SPARQL worker processes (after the engine: ``bkg:similarity`` embeds with its model)."""
        from api.similarity import QueryEmbeddings
        from api.sparql_pool import SparqlPool
        from index.build import expected_model_name

        s = self.settings
        self.query_embeddings = QueryEmbeddings(self.engine)
        self.sparql = SparqlPool(s.data_dir, expected_model_name(), size=s.sparql_workers, timeout=s.sparql_timeout,
                                 embed=self.query_embeddings.embed, memory_mb=s.sparql_memory_mb,
                                 remote=s.remote_store())
        await self.sparql.start()

    async def close(self) -> None:
        try:
            if self.sparql is not None:
                await self.sparql.close()
        finally:
            self.store.close()

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked, the same value afterwards."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()  # outside the lock: a slow query must not hold up other keys
        with self._lock:
            return self._memo.setdefault(key, value)


def runtime(request: Request) -> Runtime:
    """The runtime of the app serving ``request`` (a FastAPI dependency: ``rt: Runtime = Depends(runtime)``)."""
    rt = getattr(request.app.state, "runtime", None)
    if rt is None:  # only before start-up finished or after shutdown began
        from api.errors import ApiError

        raise ApiError(503, "服务未就绪 not ready", "the store or the search index is not loaded")
    return rt
