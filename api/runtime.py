"""What a running server holds: its :class:`Settings` and one :class:`Runtime` (store, search engine,
SPARQL worker pool, caches), made by the app factory and handed to views by :func:`runtime`.

:meth:`Settings.from_env` is where the server's environment variables are read (the README's
configuration table lists them); nothing below writes to ``os.environ``.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

if TYPE_CHECKING:  # the heavy modules load when the runtime starts, not on import
    from api.cache import LRU
    from api.similarity import QueryEmbeddings
    from api.sparql_pool import SparqlPool
    from index.search import SearchEngine
    from ingest.store import GraphStore

T = TypeVar("T")

#: the defaults of ``budgetkg serve`` (its options and environment variables override them)
DEFAULT_SPARQL_TIMEOUT = 30.0  # seconds
DEFAULT_RESULT_CAP = 10_000  # rows returned by /sparql at most
DEFAULT_SPARQL_WORKERS = 2
DEFAULT_SPARQL_MEMORY_MB = 2048
#: SPARQL filters of /api/search kept resolved (each an item mask: 1 byte per indexed item)
FILTER_CACHE_SIZE = 32


@dataclass
class Settings:
    """How the server runs. Build it with :meth:`from_env` (or directly, as the CLI does from its options)."""

    data_dir: Path
    sparql_timeout: float = DEFAULT_SPARQL_TIMEOUT
    result_cap: int = DEFAULT_RESULT_CAP
    load_model: bool = True
    sparql_workers: int = DEFAULT_SPARQL_WORKERS  # worker processes answering /sparql
    sparql_memory_mb: int | None = DEFAULT_SPARQL_MEMORY_MB  # resident memory per SPARQL worker; None: no limit
    cors_origins: tuple[str, ...] = ("*",)  # origins allowed to read responses; () disables CORS
    store_url: str | None = None  # a remote SPARQL endpoint instead of the data directory's store
    store_update_url: str | None = None
    store_graph_store_url: str | None = None

    @classmethod
    def from_env(cls, data_dir: Path | str | None = None, env: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Settings from the environment (``env``, else ``os.environ``); ``overrides`` win over it."""
        env = dict(os.environ if env is None else env)

        def number(name: str, kind: Callable[[str], Any], default: Any) -> Any:
            raw = env.get(name, "").strip()
            return kind(raw) if raw else default

        memory = number("BUDGETKG_SPARQL_MEMORY", int, DEFAULT_SPARQL_MEMORY_MB)
        origins = env.get("BUDGETKG_CORS_ORIGINS", "*")
        values: dict[str, Any] = dict(
            data_dir=Path(data_dir or env.get("BUDGETKG_DATA") or "data"),
            sparql_workers=number("BUDGETKG_SPARQL_WORKERS", int, DEFAULT_SPARQL_WORKERS),
            sparql_memory_mb=memory or None,  # 0: no limit
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            store_url=env.get("BUDGETKG_STORE") or None,
            store_update_url=env.get("BUDGETKG_STORE_UPDATE") or None,
            store_graph_store_url=env.get("BUDGETKG_STORE_GSP") or None,
        )
        values.update(overrides)
        return cls(**values)

    def remote_store(self):
        """The remote endpoint to use instead of the data directory's store, or None."""
        from ingest.store import RemoteEndpoint

        if not self.store_url:
            return None
        return RemoteEndpoint(self.store_url, update_url=self.store_update_url, graph_store_url=self.store_graph_store_url)


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
