"""Shared fixtures: real stores over real data directories, built once per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# the converted model is shared by every data directory the tests create (converted once, ~3 s)
os.environ.setdefault("BUDGETKG_MODEL_CACHE", str(ROOT / "tests" / ".artifacts" / "models"))
SAMPLES = ROOT / "samples"
SEEDS = SAMPLES / "seeds"
EXTRA = SAMPLES / "extra"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def samples_store_dir(tmp_path_factory) -> Path:
    """A data directory with every bundled sample ingested (no search index)."""
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    data = tmp_path_factory.mktemp("samples-data")
    store = open_store(data)
    try:
        outcomes = ingest_paths(store, [SAMPLES])
    finally:
        store.close()
    bad = [o for o in outcomes if o.status == "error"]
    assert not bad, bad
    return data


@pytest.fixture(scope="session")
def samples_store(samples_store_dir):
    from ingest.store import open_store

    store = open_store(samples_store_dir, read_only=True)
    yield store
    store.close()


@pytest.fixture
def fresh_copy(samples_store_dir, tmp_path) -> Path:
    """A writable copy of the samples data directory, for tests that change it."""
    dst = tmp_path / "data"
    shutil.copytree(samples_store_dir, dst)
    return dst


@pytest.fixture(scope="session")
def samples_index_dir(samples_store_dir) -> Path:
    """The samples data directory with its search index built (real model)."""
    from index.build import build_index
    from ingest.store import open_store

    store = open_store(samples_store_dir, read_only=True)
    try:
        build_index(samples_store_dir, store)
    finally:
        store.close()
    return samples_store_dir


@pytest.fixture(scope="session")
def engine(samples_index_dir):
    from index.search import SearchEngine

    return SearchEngine(samples_index_dir)
