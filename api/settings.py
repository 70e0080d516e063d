"""How budgetkg runs: :class:`Settings`, and :meth:`Settings.from_env`, the one place the environment
variables of the server and the command line are read (the README's configuration table lists them).
Kept apart from :mod:`api.runtime` so that the command line reads its settings without importing
FastAPI (a CLI command should answer in about a second)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the defaults of ``budgetkg serve`` (its options and environment variables override them)
DEFAULT_SPARQL_TIMEOUT = 30.0  # seconds
DEFAULT_RESULT_CAP = 10_000  # rows returned by /sparql at most
DEFAULT_SPARQL_WORKERS = 2
DEFAULT_SPARQL_MEMORY_MB = 2048


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


