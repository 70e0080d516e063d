"""The server's settings come from one place (``Settings.from_env``), options win over the environment,
and reading them changes nothing in it."""
from __future__ import annotations

import os
from pathlib import Path

from api.settings import Settings
from ingest.store import RemoteEndpoint


def test_settings_from_the_environment():
    env = {"BUDGETKG_DATA": "/srv/kg", "BUDGETKG_SPARQL_WORKERS": "3", "BUDGETKG_SPARQL_MEMORY": "0",
           "BUDGETKG_CORS_ORIGINS": "https://a.example, https://b.example", "BUDGETKG_STORE": "http://h:7878/query",
           "BUDGETKG_STORE_GSP": "http://h:7878/store"}
    s = Settings.from_env(env=env)
    assert s.data_dir == Path("/srv/kg") and s.sparql_workers == 3
    assert s.sparql_memory_mb is None  # 0: no limit
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.remote_store() == RemoteEndpoint("http://h:7878/query", update_url=None, graph_store_url="http://h:7878/store")


def test_defaults_and_options_win():
    s = Settings.from_env(env={})
    assert (s.data_dir, s.sparql_workers, s.sparql_memory_mb, s.cors_origins, s.remote_store()) == (
        Path("data"), 2, 2048, ("*",), None)
    s = Settings.from_env("/other", env={"BUDGETKG_DATA": "/srv/kg", "BUDGETKG_SPARQL_WORKERS": "3"}, sparql_workers=1)
    assert s.data_dir == Path("/other") and s.sparql_workers == 1


def test_reading_settings_writes_nothing_to_the_environment():
    before = dict(os.environ)
    Settings.from_env(store_url="http://h:7878/query")
    assert dict(os.environ) == before
