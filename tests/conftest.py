"""Shared fixtures: real stores over real data directories, built once per test run.

``make test`` runs the suite on two pytest-xdist workers. What is expensive is built once for both:
the samples data directory (ingested, then indexed with the real model) lives below the run's shared
temporary root and is built under a file lock by whichever worker needs it first; the other worker
waits on that lock and reuses it (read-only: tests that change a store work on a copy). The vectors
of the samples' texts are kept in ``tests/.artifacts`` between runs (keyed by model and text hash, so
a cache from an earlier run only spares re-embedding), and the converted model is shared read-only.

Tests that share a running server are kept on one worker (see :func:`pytest_xdist_make_scheduler`),
so that no worker starts a second copy of it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ARTIFACTS = ROOT / "tests" / ".artifacts"
# the converted model is shared by every data directory the tests create (converted once, ~3 s)
os.environ.setdefault("BUDGETKG_MODEL_CACHE", str(ARTIFACTS / "models"))
SAMPLES = ROOT / "samples"
SEEDS = SAMPLES / "seeds"
EXTRA = SAMPLES / "extra"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: the vectors of the samples' texts, kept between runs
SAMPLES_EMBEDDINGS = ARTIFACTS / "samples-embeddings.sqlite"

#: the shared server's fixture (tests/served.py): every module using it runs on one xdist worker
SERVER_FIXTURE = "protocol_server"


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """How ``make test`` spreads the tests over its workers: whole modules (module-scoped fixtures such
    as a module's own servers are built once), and every module that uses the shared session server
    as one unit, so that the server starts once. (xdist's ``--dist loadgroup`` would do the second
    with marks, but its group suffix no longer reaches pytest 9's node ids.)"""
    from xdist.scheduler import LoadScopeScheduling

    tests = Path(__file__).resolve().parent
    served = {p.name for p in tests.glob("test_*.py") if SERVER_FIXTURE in p.read_text(encoding="utf-8")}

    class ModulesAndServer(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "served by tests/served.py" if Path(path).name in served else path

    return ModulesAndServer(config, log)


def shared_root(tmp_path_factory) -> Path:
    """A directory every xdist worker of this run sees (each worker has its own basetemp below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory, name: str, build) -> Path:
    """``shared_root/name``, made by ``build(path)`` by the first worker to ask; the others wait on the
    lock (never a fixed sleep) and get the finished directory. A build that failed is tried again."""
    from filelock import FileLock

    path = shared_root(tmp_path_factory) / name
    done = path.with_name(name + ".done")
    with FileLock(str(path) + ".lock"):
        if not done.exists():
            if path.exists():
                shutil.rmtree(path)
            path.mkdir(parents=True)
            build(path)
            done.touch()
    return path


def save_artifact(src: Path, dst: Path) -> None:
    """Copy a file into tests/.artifacts atomically: a reader on another worker never sees half of it."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.")
    os.close(fd)
    shutil.copy(src, tmp)
    os.replace(tmp, dst)


@pytest.fixture(scope="session")
def samples_store_dir(tmp_path_factory) -> Path:
    """A data directory with every bundled sample ingested (no search index). Read-only."""
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    def build(data: Path) -> None:
        store = open_store(data)
        try:
            outcomes = ingest_paths(store, [SAMPLES])
        finally:
            store.close()
        bad = [o for o in outcomes if o.status == "error"]
        assert not bad, bad

    return build_once(tmp_path_factory, "samples-data", build)


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
def samples_index_dir(samples_store_dir, tmp_path_factory) -> Path:
    """The samples data directory with its search index built (real model). Read-only."""
    from filelock import FileLock

    from index.build import build_index
    from ingest.store import open_store

    done = samples_store_dir.with_name("samples-index.done")
    with FileLock(str(samples_store_dir) + "-index.lock"):
        if not done.exists():
            cache = samples_store_dir / "embeddings.sqlite"
            if SAMPLES_EMBEDDINGS.exists() and not cache.exists():
                shutil.copy(SAMPLES_EMBEDDINGS, cache)
            store = open_store(samples_store_dir, read_only=True)
            try:
                build_index(samples_store_dir, store)
            finally:
                store.close()
            save_artifact(cache, SAMPLES_EMBEDDINGS)
            done.touch()
    return samples_store_dir


@pytest.fixture(scope="session")
def engine(samples_index_dir):
    from index.search import SearchEngine

    return SearchEngine(samples_index_dir)


# The shared server, registered here once: a session fixture imported into several test modules is a
# separate fixture of each module, and each started its own server (four, then six of them, ~1.3 GB
# and ~30 s of loading each). Imported last: tests/served.py imports from this module.
from served import protocol_server  # noqa: E402,F401
