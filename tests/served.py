"""A real ``budgetkg serve`` (uvicorn) over a real data directory, for the SPARQL protocol, W3C and
hostile-input tests: the bundled samples (ingested and indexed once per session by ``conftest``)
plus the W3C SPARQL 1.1 Protocol test data, each file in the named graph its manifest names.

The server runs with a small result cap, a short timeout and a small memory limit, so that paging,
timeouts and the memory limit can be reached by ordinary queries.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib

from conftest import FIXTURES, ROOT

W3C = FIXTURES / "w3c" / "sparql11-protocol"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

#: settings of the server under test
RESULT_CAP = 500
TIMEOUT_S = 10
MEMORY_MB = 400
#: how long the server may take to load (model, index, workers) on a loaded machine
START_TIMEOUT = 180
#: how long a replaced worker may take to be back (forkserver start included)
RECOVERY_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def w3c_graphs() -> dict[str, Path]:
    """Graph name → data file, as the manifest's ``ut:graphData`` entries give them."""
    manifest = rdflib.Graph().parse(W3C / "manifest.ttl", format="turtle")
    out = {}
    for gd in manifest.objects(None, UT.graphData):
        name = str(manifest.value(gd, rdflib.RDFS.label))
        out[name] = W3C / Path(str(manifest.value(gd, UT.graph))).name
    return out


def load_w3c_data(data_dir: Path) -> None:
    """Put each W3C data file into its named graph of the data directory's store."""
    store = ox.Store(str(data_dir / "store"))
    try:
        for name, path in w3c_graphs().items():
            store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
        store.flush()
    finally:
        del store


class Server:
    """A ``budgetkg serve`` subprocess on a free port."""

    def __init__(self, data: Path, log: Path, *options: str):
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api", "--data", str(data), "serve", "--port", str(self.port), *options],
            cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=os.environ.copy())

    def wait_ready(self, timeout: float = START_TIMEOUT) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # polling a starting process: nothing to wait on but its port
        pytest.fail(f"server not ready after {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def workers_alive(self) -> int:
        return httpx.get(self.url + "/api/health", timeout=10).json()["sparql"]["workers"]

    def wait_workers(self, n: int, timeout: float = RECOVERY_TIMEOUT) -> None:
        """Until ``n`` SPARQL workers are in service again."""
        deadline = time.monotonic() + timeout
        while self.workers_alive() < n:
            assert time.monotonic() < deadline, f"fewer than {n} SPARQL workers after {timeout} s"
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The SPARQL worker processes (in service and spare): the children of the server's forkserver."""
        def children(pid: int) -> list[int]:
            out = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # the process ended meanwhile
                if int(fields[1]) == pid:
                    out.append(int(stat.parent.name))
            return out

        def cmdline(pid: int) -> str:
            try:
                return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                return ""

        servers = [c for c in children(self.proc.pid) if "forkserver" in cmdline(c)]
        return [w for s in servers for w in children(s)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def protocol_server(samples_index_dir, tmp_path_factory):
    """One server for the protocol, W3C and hostile-input tests (session-wide: it loads a model)."""
    base = tmp_path_factory.mktemp("protocol")
    data = base / "data"
    shutil.copytree(samples_index_dir, data)
    load_w3c_data(data)
    server = Server(data, base / "server.log", "--sparql-timeout", str(TIMEOUT_S), "--result-cap", str(RESULT_CAP),
                    "--sparql-memory", str(MEMORY_MB), "--sparql-workers", "2")
    try:
        yield server.wait_ready()
    finally:
        server.stop()
