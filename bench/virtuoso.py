"""A private Virtuoso 7 (Debian ``virtuoso-opensource``) for the benchmark and the tests.

The scale-out path of the README points budgetkg at a SPARQL 1.1 server; this starts one the way an
operator would, but private: its database in a given directory, on free ports, the packaged
``virtuoso.ini`` with the paths, ports and three settings changed —

- ``ResultSetMaxRows`` raised from 10,000: whole-store reads (``budgetkg export``, the index build)
  return more rows than that, and Virtuoso would cut them silently;
- ``NumberOfBuffers`` / ``MaxDirtyBuffers`` (8 KiB pages kept in memory) from the packaged
  ini's own table for the memory given (its default, 10,000 pages = 80 MB, is for small machines);
- SPARQL updates granted to the anonymous ``SPARQL`` user, so that ``budgetkg ingest --store`` can write.
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")

#: (memory in GB, NumberOfBuffers, MaxDirtyBuffers): the sizing table of the packaged virtuoso.ini
BUFFERS = [(2, 170_000, 130_000), (4, 340_000, 250_000), (8, 680_000, 500_000), (16, 1_360_000, 1_000_000)]


def available() -> bool:
    return bool(shutil.which("virtuoso-t") and shutil.which("isql-vt") and INI.exists())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Virtuoso:
    proc: subprocess.Popen
    directory: Path
    sql_port: int
    http_port: int

    @property
    def url(self) -> str:
        """The SPARQL 1.1 query (and update) endpoint."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def graph_store_url(self) -> str:
        """The SPARQL 1.1 Graph Store HTTP Protocol endpoint."""
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud"

    def isql(self, statement: str, timeout: float = 60) -> str:
        r = subprocess.run(["isql-vt", str(self.sql_port), "dba", "dba", f"exec={statement}"],
                           capture_output=True, text=True, timeout=timeout, check=False)
        if r.returncode != 0 or "*** Error" in r.stdout + r.stderr:
            raise RuntimeError(f"isql {statement!r}: {(r.stdout + r.stderr).strip()[-500:]}")
        return r.stdout

    def bulk_load(self, nquads: Path, timeout: float = 7200) -> None:
        """Load an N-Quads file with Virtuoso's bulk loader (its directory must be in ``allow_dirs``)."""
        nquads = Path(nquads).resolve()
        if not nquads.is_file():
            raise RuntimeError(f"{nquads}: no such file to load")  # ld_dir would load nothing, silently
        self.isql(f"ld_dir('{nquads.parent}', '{nquads.name}', 'urn:budgetkg:unused'); rdf_loader_run(); checkpoint;", timeout)
        errors = self.isql(f"SELECT ll_error FROM DB.DBA.load_list WHERE ll_file = '{nquads}' AND ll_error IS NOT NULL;")
        if "\n0 Rows." not in errors:
            raise RuntimeError(f"Virtuoso's bulk loader failed on {nquads}: {errors.strip()[-500:]}")

    def version(self) -> str:
        m = re.search(r"Version (\S+)", self.log()[:2000])
        return f"Virtuoso {m.group(1)}" if m else "Virtuoso"

    def peak_rss_mb(self) -> float | None:
        """The server's peak resident memory (it is another process: not in the caller's own)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"VmHWM:\s+(\d+) kB", status)
        return round(int(m.group(1)) / 1024, 1) if m else None

    def log(self) -> str:
        f = self.directory / "virtuoso.log"
        return f.read_text(errors="replace") if f.exists() else ""

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(directory: Path, memory_gb: float = 0, allow_dirs: list[Path] = (), timeout: float = 60) -> Virtuoso:
    """Start a private Virtuoso whose database lives in ``directory`` (created; it should be empty).
    ``memory_gb`` sizes its page buffers from the packaged table (0: the packaged default);
    ``allow_dirs`` are directories its bulk loader may read (:meth:`Virtuoso.bulk_load`)."""
    if not available():
        raise RuntimeError("Virtuoso is not installed (apt-get install virtuoso-opensource; `make system-deps` does it)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = INI.read_text(encoding="utf-8")
    ini = re.sub(r"/var/lib/virtuoso-opensource-7/db/", f"{directory}/", ini)
    ini = re.sub(r"(\[Parameters\][^\[]*?\nServerPort\s*=\s*)\d+", rf"\g<1>{sql_port}", ini, flags=re.DOTALL)
    ini = re.sub(r"(\[HTTPServer\][^\[]*?\nServerPort\s*=\s*)\d+", rf"\g<1>{http_port}", ini, flags=re.DOTALL)
    ini = re.sub(r"(\nResultSetMaxRows\s*=\s*)\d+", r"\g<1>1000000", ini)
    if allow_dirs:
        ini = re.sub(r"(\nDirsAllowed\s*=\s*)([^\n]*)", lambda m: m.group(1) + ", ".join([m.group(2), *map(str, allow_dirs)]), ini)
    sizes = [b for b in BUFFERS if b[0] <= memory_gb]
    if sizes:
        _, buffers, dirty = sizes[-1]
        ini = re.sub(r"\n\s*NumberOfBuffers\s*=\s*\d+", f"\nNumberOfBuffers = {buffers}", ini, count=1)
        ini = re.sub(r"\n\s*MaxDirtyBuffers\s*=\s*\d+", f"\nMaxDirtyBuffers = {dirty}", ini, count=1)
    (directory / "virtuoso.ini").write_text(ini, encoding="utf-8")
    proc = subprocess.Popen(["virtuoso-t", "-f", "-c", str(directory / "virtuoso.ini")], cwd=directory,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = Virtuoso(proc, directory, sql_port, http_port)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"Virtuoso exited with {proc.returncode}: {server.log()[-800:]}")
        try:
            urllib.request.urlopen(server.url + "?query=ASK%7B%7D", timeout=2).close()
            break
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"Virtuoso did not answer within {timeout:g} s: {server.log()[-800:]}") from None
            time.sleep(0.3)
    try:
        server.isql('GRANT SPARQL_UPDATE TO "SPARQL";')
    except (RuntimeError, subprocess.TimeoutExpired):
        server.stop()
        raise
    return server
