"""Crashes and interruptions leave nothing half-done that goes unnoticed — through the real CLI:
an ingest killed while building the index (the next ingest repairs the index, `serve` refuses it,
/api/health says it is stale), an interrupted `ingest --bulk` (its spool does not stay behind), and a
disk that fills up while writing the store."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXTRA, ROOT, SEEDS

DK = SEEDS / "dongguan-dongkeng-2024-project-performance-targets.txt"
YD = SEEDS / "lanzhou-yongdeng-2024-unit-budget.txt"
#: vectors of the samples' texts, left by test_api (keyed by model and text): spares embedding them
EMBEDDINGS_SEED = ROOT / "tests" / ".artifacts" / "api-embeddings.sqlite"
#: how long a condition may take to come true on a loaded machine
PATIENCE = 300


def command(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "api", "--data", str(data), *args]


def cli(data: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(command(data, *args), capture_output=True, text=True, timeout=PATIENCE, env=dict(os.environ),
                          cwd=ROOT, **kw)


def start(data: Path, *args: str) -> subprocess.Popen:
    """The command in a process group of its own (its reading workers with it), as a terminal runs it."""
    return subprocess.Popen(command(data, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ), cwd=ROOT, start_new_session=True)


def wait_for(proc: subprocess.Popen, condition, what: str) -> None:
    """Poll until ``condition()`` holds; fail if the process ends first (the moment was missed)."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the process ended ({proc.returncode}) before {what}:\n{out[-2000:]}\n{err[-2000:]}")
        assert time.monotonic() < deadline, f"not {what} after {PATIENCE} s"
        time.sleep(0.005)  # polling another process's files: nothing to block on


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    proc.send_signal(sig)
    proc.communicate(timeout=PATIENCE)


def new_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    if EMBEDDINGS_SEED.exists():
        shutil.copy(EMBEDDINGS_SEED, data / "embeddings.sqlite")
    return data


def state(data: Path):
    from index.manifest import index_state
    from ingest.store import open_store

    store = open_store(data, read_only=True)
    try:
        return index_state(data, store)
    finally:
        store.close()


def test_an_ingest_killed_while_building_the_index_is_repaired_by_the_next(tmp_path):
    data = new_data_dir(tmp_path)
    first = cli(data, "ingest", str(DK))
    assert first.returncode == 0, first.stderr
    assert state(data).fresh and state(data).indexed == 1
    run = start(data, "ingest", str(SEEDS), str(EXTRA))
    # the index is built in index.tmp and renamed into place: kill -9 while it is being built
    wait_for(run, (data / "index.tmp").exists, "the index build started")
    kill(run)
    assert run.returncode == -signal.SIGKILL
    st = state(data)
    assert (st.state, st.indexed, st.stored, st.missing) == ("stale", 1, 8, 7)

    # serve refuses it with one line saying what to do
    refused = cli(data, "serve", "--port", "0")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        f"ERROR {data}: index stale: covers 1 of the 8 stored documents as they are (7 not indexed); "
        f"run `budgetkg --data {data} reindex` (or ingest again)"]

    # the same ingest again: every document unchanged, and the index is rebuilt all the same
    again = cli(data, "ingest", str(SEEDS), str(EXTRA))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("unchanged ") == 8 and "added" not in again.stdout
    assert "index stale: covers 1 of the 8 stored documents" in again.stderr and "index: {" in again.stdout
    st = state(data)
    assert (st.state, st.indexed, st.stored) == ("fresh", 8, 8)
    from index.search import SearchEngine

    engine = SearchEngine(data, load_model=False)
    # the samples: 296 projects, indicators and key tasks, and 520 budget lines
    assert {it.kind for it in engine.items} == {"project", "indicator", "task", "line"} and len(engine.items) == 816
    # and once fresh, a further ingest leaves the index alone
    third = cli(data, "ingest", str(SEEDS), str(EXTRA))
    assert third.returncode == 0 and "index" not in third.stdout + third.stderr


def test_health_reports_an_index_stale_behind_a_changed_store(samples_index_dir, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import Settings, create_app

    data = tmp_path / "data"
    shutil.copytree(samples_index_dir, data)
    app = create_app(Settings(data_dir=data, load_model=False, sparql_workers=1))
    with TestClient(app) as client:
        index = client.get("/api/health").json()["index"]
    assert index == {"state": "fresh", "indexed": 8, "stored": 8, "missing": 0, "changed": 0, "removed": 0, "reason": None}
    # the store changes behind the index: a new document, another one changed
    other = tmp_path / "other.txt"
    other.write_text(YD.read_text(encoding="utf-8").replace("永登县政务服务中心", "永登县测试中心"), encoding="utf-8")
    changed = tmp_path / "changed.txt"
    changed.write_text(DK.read_text(encoding="utf-8").replace("租赁窗口设备数量", "租赁窗口设备台数"), encoding="utf-8")
    out = cli(data, "ingest", "--no-index", str(other), str(changed))
    assert out.returncode == 0 and "added " in out.stdout and "replaced " in out.stdout, out.stderr
    app = create_app(Settings(data_dir=data, load_model=False, sparql_workers=1))
    with TestClient(app) as client:
        health = client.get("/api/health")
    assert health.status_code == 200
    assert health.json()["index"] == {
        "state": "stale", "indexed": 8, "stored": 9, "missing": 1, "changed": 1, "removed": 0,
        "reason": "covers 7 of the 9 stored documents as they are (1 not indexed, 1 changed since)"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Generated documents, enough that a --bulk ingest spools for a while."""
    if str(ROOT) not in sys.path:  # bench/ is not an installed package
        sys.path.insert(0, str(ROOT))
    from bench.generate import generate

    out = tmp_path_factory.mktemp("corpus")
    generate(out, 150, seed=5)
    return out


def spools(data: Path) -> list[Path]:
    return list(data.glob(".bulk-spool-*.nq"))


def spooling(data: Path):
    def check() -> bool:
        for f in spools(data):
            try:
                if f.stat().st_size:
                    return True
            except FileNotFoundError:  # loaded and removed meanwhile
                pass
        return False
    return check


def assert_whole(data: Path, documents: int) -> None:
    """Every document graph carries its content hash (none is cut short), and there are ``documents``."""
    from ingest.mapping import LINKS_GRAPH, ONTOLOGY_GRAPH, SHARED_GRAPH
    from ingest.store import open_store

    store = open_store(data, read_only=True)
    try:
        graphs = {r["g"] for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
        docs = store.documents()
    finally:
        store.close()
    assert graphs - {str(ONTOLOGY_GRAPH), str(SHARED_GRAPH), str(LINKS_GRAPH)} == set(docs)
    assert len(docs) == documents


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_bulk_ingest_leaves_no_spool_and_the_next_one_finishes(corpus, tmp_path, sig):
    documents = len(list(corpus.rglob("*.txt")))
    data = tmp_path / "data"
    run = start(data, "ingest", "--bulk", "--no-index", str(corpus))
    wait_for(run, spooling(data), "the bulk spool was written")
    os.killpg(run.pid, sig)  # the whole group, workers too, as Ctrl-C in a terminal (or a kill of the job)
    out, err = run.communicate(timeout=PATIENCE)
    if sig == signal.SIGINT:
        assert run.returncode == 130 and "Traceback" not in err, err
        assert err.strip().splitlines()[-1].startswith("ERROR interrupted: the documents written so far are stored whole")
        assert not spools(data)  # dropped on the way out
    else:
        assert run.returncode == -signal.SIGKILL
    # the next ingest removes what a killed run left, and writes every document whole
    again = cli(data, "ingest", "--bulk", "--no-index", str(corpus))
    assert again.returncode == 0, again.stderr
    assert not spools(data)
    assert again.stdout.count("added ") + again.stdout.count("unchanged ") + again.stdout.count("replaced ") == documents
    assert_whole(data, documents)


def _tiny_disk(where: Path, size: str) -> Path:
    """A small tmpfs mounted at ``where`` (root only)."""
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the RLIMIT_FSIZE case runs instead")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if res.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode(errors='replace').strip()}")
    return where


#: the disk: 8 MB hold the first document's store (3 MB), not the others' (30 MB); a file may grow to
#: 4 MB: the first document's log (1.9 MB) fits, the others' (20 MB) does not
DISK_SIZE = "8m"
FILE_LIMIT = 4 * 2**20


def _small_files() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


@pytest.mark.parametrize("how", ["tmpfs", "rlimit"])
def test_a_full_disk_ends_in_clear_errors_and_no_document_half_written(tmp_path, how):
    """A full disk, really (a small tmpfs; root only), and simulated: each write past FILE_LIMIT refused
    by RLIMIT_FSIZE in the ingest process (Python ignores SIGXFSZ: the write fails with EFBIG)."""
    mount = _tiny_disk(tmp_path / "disk", DISK_SIZE) if how == "tmpfs" else None
    try:
        data = tmp_path / "disk" / "data"
        run = dict(preexec_fn=None if mount else _small_files)
        first = cli(data, "ingest", "--no-index", str(DK), **run)
        assert first.returncode == 0, first.stderr
        full = cli(data, "ingest", "--no-index", str(SEEDS), str(EXTRA), **run)
        assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr
        errors = full.stderr.strip().splitlines()
        why = "No space left on device" if mount else "File too large"
        assert len(errors) == 8 and all(why in e for e in errors), errors
        # each document the disk refused is named, then the store's own line
        assert all(e.startswith("ERROR ") and ": the update failed, nothing was written (" in e for e in errors[:7])
        assert errors[-1].startswith(f"ERROR {data / 'store'}: could not finish writing the store (")
        assert "unchanged " in full.stdout and DK.name in full.stdout
        # with room again (a copy elsewhere), the store holds the first document whole and nothing else
        roomy = tmp_path / "roomy"
        shutil.copytree(data, roomy)
    finally:
        if mount:
            subprocess.run(["umount", str(mount)], check=True)
    assert_whole(roomy, 1)
    done = cli(roomy, "ingest", "--no-index", str(SEEDS), str(EXTRA))
    assert done.returncode == 0 and done.stdout.count("added ") == 7, done.stderr
    assert_whole(roomy, 8)


def test_an_index_that_cannot_be_written_keeps_the_previous_one(tmp_path):
    """The disk refuses the index files (RLIMIT_FSIZE: none may pass 100 kB; the vectors of the samples
    are about 1 MB): one clear line, the previous index stays whole, and reindex with room finishes it."""
    data = new_data_dir(tmp_path)
    assert cli(data, "ingest", str(SEEDS), str(EXTRA)).returncode == 0
    other = tmp_path / "other.txt"  # a new document whose texts are those of one already indexed
    other.write_text(YD.read_text(encoding="utf-8").replace("永登县政务服务中心", "永登县测试中心"), encoding="utf-8")
    assert cli(data, "ingest", "--no-index", str(other)).returncode == 0

    def small_files() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    refused = cli(data, "reindex", preexec_fn=small_files)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    (line,) = [ln for ln in refused.stderr.splitlines() if ln.startswith("ERROR ")]
    assert line.startswith(f"ERROR {data / 'index'}: could not write the search index ("), line
    assert not (data / "index.tmp").exists()  # the partial build's space is given back
    st = state(data)
    assert (st.state, st.indexed, st.stored) == ("stale", 8, 9)
    from index.search import SearchEngine

    assert len(SearchEngine(data, load_model=False).items) == 816  # the previous index, whole
    assert cli(data, "reindex").returncode == 0
    st = state(data)
    assert (st.state, st.indexed, st.stored) == ("fresh", 9, 9)
