"""The command line answers fast: commands that need no model import none, arguments and files are
checked before anything heavy loads, and ``search`` / ``similar`` / ``sparql`` with ``bkg:similarity``
use a ``budgetkg serve`` running on the same data directory (found through ``<data>/server.json``).

Real processes throughout: the CLI as a subprocess, the session's real server (``served.py``), and one
server of its own for the announce/withdraw life cycle.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from served import Server

#: modules that only the model needs: a command without a model must not import any of them
MODEL_MODULES = ("torch", "transformers", "sentence_transformers")
SIMILARITY_QUERY = (ROOT / "ontology" / "queries" / "similar-names.rq").read_text(encoding="utf-8")


def cli(data: Path, *args: str, timeout: float = 600, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python, "-m", "api", "--data", str(data), *args], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ.copy(), timeout=timeout)


def imported(stderr: str) -> set[str]:
    """Top-level packages named in ``-X importtime`` output."""
    return {line.split("|")[-1].strip().split(".")[0] for line in stderr.splitlines() if line.startswith("import time:")}


def test_sparql_imports_no_model(samples_store_dir):
    out = cli(samples_store_dir, "sparql", "ASK { ?p a bkg:Project }", python=("-X", "importtime"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["boolean"] is True
    assert not imported(out.stderr) & set(MODEL_MODULES)


def test_a_missing_batch_file_is_said_before_anything_loads(samples_index_dir, tmp_path):
    out = cli(samples_index_dir, "search", "--batch", str(tmp_path / "missing.txt"), "--local", python=("-X", "importtime"))
    assert out.returncode == 2
    errors = [ln for ln in out.stderr.splitlines() if not ln.startswith("import time:")]
    assert errors == [f"ERROR {tmp_path / 'missing.txt'}: cannot read (No such file or directory)"]
    assert not imported(out.stderr) & {*MODEL_MODULES, "numpy", "faiss"}


def test_similar_without_a_server_needs_no_model(samples_index_dir, engine):
    iri = next(it.iri for it in engine.items if it.kind == "project")
    out = cli(samples_index_dir, "similar", iri, "--json", "--top", "3", python=("-X", "importtime"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert [r["iri"] for r in json.loads(out.stdout)] == [r["iri"] for r in engine.similar(iri, top=3)]
    assert not imported(out.stderr) & set(MODEL_MODULES)


def test_a_stale_server_file_is_ignored(samples_index_dir, engine, tmp_path):
    """A server killed without cleaning up leaves its file behind: its pid is dead, the CLI works alone."""
    data = tmp_path / "data"
    shutil.copytree(samples_index_dir, data)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (data / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": int(dead.stdout), "store": None,
                                                  "started": 0}), encoding="utf-8")
    iri = next(it.iri for it in engine.items if it.kind == "project")
    out = cli(data, "similar", iri, "--json", "--top", "2")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "using the server" not in out.stderr
    # the engine's own answer (comparables that share meaning: fewer than --top when fewer qualify)
    assert [r["iri"] for r in json.loads(out.stdout)] == [r["iri"] for r in engine.similar(iri, top=2)]


# -- with the session's running server -----------------------------------------------------------

def test_search_asks_the_running_server(protocol_server, engine):
    out = cli(protocol_server.data, "search", "自助终端 租赁", "--kind", "project", "--top", "5", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"using the server at {protocol_server.url}" in out.stderr
    got = json.loads(out.stdout)
    want = engine.search("自助终端 租赁", kind="project", top=5)["results"]
    assert [r["iri"] for r in got] == [r["iri"] for r in want]
    assert got[0]["name"] == "专用设备租赁费支出"


def test_batch_search_through_the_server_prints_json_lines(protocol_server):
    questions = [q for q in (ROOT / "examples" / "questions.txt").read_text(encoding="utf-8").splitlines() if q.strip()]
    out = cli(protocol_server.data, "search", "--batch", "examples/questions.txt", "--top", "3")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(ln) for ln in out.stdout.splitlines()]
    assert [ln["query"] for ln in lines] == questions
    assert all(ln["results"] for ln in lines)
    assert "interpretation" in lines[questions.index("清溪镇2024年的租赁项目")]


def test_similar_asks_the_running_server(protocol_server, engine):
    iri = "https://w3id.org/budgetkg/id/project/a5607415adf71490"
    out = cli(protocol_server.data, "similar", iri, "--other-towns", "--top", "3", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "using the server" in out.stderr
    assert [r["iri"] for r in json.loads(out.stdout)] == [r["iri"] for r in engine.similar(iri, other_towns=True, top=3)]
    missing = cli(protocol_server.data, "similar", "https://w3id.org/budgetkg/id/project/nope")
    assert missing.returncode == 2 and "not a project, indicator or key task" in missing.stderr


def similarity_rows(protocol_server) -> list[str]:
    served = cli(protocol_server.data, "sparql", SIMILARITY_QUERY, "--format", "csv")
    assert served.returncode == 0, served.stderr[-2000:]
    assert "using the server" in served.stderr
    return served.stdout.splitlines()


def test_sparql_similarity_through_the_server(protocol_server):
    """bkg:similarity, the server's custom function, works in the CLI: routed to the running server."""
    rows = similarity_rows(protocol_server)
    assert rows[0] == "name,sim" and rows[1].startswith("专用设备租赁费支出,0.8")


@pytest.mark.slow
def test_sparql_similarity_in_the_cli_itself(protocol_server):
    """--local: the CLI evaluates bkg:similarity itself (loading the model), with the server's result."""
    rows = similarity_rows(protocol_server)
    local = cli(protocol_server.data, "sparql", SIMILARITY_QUERY, "--format", "csv", "--local")
    assert local.returncode == 0, local.stderr[-2000:]
    assert "using the server" not in local.stderr
    assert local.stdout.splitlines() == rows


def test_serve_on_a_store_in_use_is_one_line(protocol_server):
    out = cli(protocol_server.data, "serve", "--port", "0", timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR "), out.stderr[-2000:]
    assert "holds this store" in lines[0] and protocol_server.url in lines[0]


def test_ingest_into_a_served_store_names_the_server(protocol_server):
    out = cli(protocol_server.data, "ingest", "--no-index", str(ROOT / "samples" / "seeds"), timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert f"pid {protocol_server.proc.pid}" in out.stderr and "holds this store" in out.stderr


# -- the server's announcement, from start to stop -------------------------------------------------

@pytest.mark.slow
def test_the_server_announces_itself_and_withdraws_on_stop(samples_index_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(samples_index_dir, data)
    server = Server(data, tmp_path / "server.log", "--sparql-workers", "1")
    try:
        server.wait_ready()
        deadline = time.monotonic() + 30  # written right after start-up: wait on it, not a fixed time
        while not (data / "server.json").exists() or "budgetkg: serving" not in server.tail():
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.1)
        info = json.loads((data / "server.json").read_text(encoding="utf-8"))
        assert info["url"] == server.url and info["pid"] == server.proc.pid and info["store"] is None
        assert httpx.get(info["url"] + "/api/health", timeout=10).status_code == 200
        assert f"budgetkg: serving {data} at {server.url}" in server.tail()
    finally:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=60)
    assert not (data / "server.json").exists(), server.tail()


def test_a_port_in_use_is_one_line(protocol_server, samples_index_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(samples_index_dir, data)
    out = cli(data, "serve", "--port", str(protocol_server.port), timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"ERROR 127.0.0.1:{protocol_server.port}: cannot listen there (Address already in use)"]
