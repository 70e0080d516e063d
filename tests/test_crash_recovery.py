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
    return subprocess.Popen(command(data, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ), cwd=ROOT)


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
    assert {it.kind for it in engine.items} == {"project", "indicator", "task"} and len(engine.items) == 296
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
