"""Shared fixtures: real stores over real data directories, built once per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
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
