"""The store behind one interface: a real SPARQL 1.1 server (``oxigraph serve``, from the
``oxigraph`` PyPI package) holds the same graph as the embedded store after the same CLI ingest,
and answers the same queries the same way. Also: bulk ingest (several documents per update) writes
exactly what one-document-per-update writes, and a document whose update fails leaves the store
without it while the others go in."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES

QX = "东莞市清溪镇政务服务中心"

COMPARE = {
    "projects": "SELECT (COUNT(*) AS ?n) WHERE { ?p a bkg:Project }",
    "indicators": "SELECT (COUNT(*) AS ?n) WHERE { ?i a bkg:PerformanceIndicator }",
    "key_tasks": "SELECT (COUNT(*) AS ?n) WHERE { ?k a bkg:KeyTask }",
    "budget_lines": "SELECT (COUNT(*) AS ?n) WHERE { ?l a bkg:BudgetLine }",
    "amount_2080104": f"""SELECT ?a WHERE {{ ?l a bkg:BudgetLine ; bkg:classification ?c ; bkg:amount ?a ; bkg:budgetUnit/rdfs:label "{QX}" .
                          ?c skos:notation "2080104" ; skos:inScheme bkg:FunctionalClassification }}""",
    "labels_30213": """SELECT ?pref ?alt WHERE { ?c skos:notation "30213" ; skos:inScheme bkg:EconomicClassification ; skos:prefLabel ?pref .
                          OPTIONAL { ?c skos:altLabel ?alt } }""",
    "totals_by_town": """SELECT ?town (SUM(?a) AS ?total) (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project ; bkg:amount ?a ;
                          bkg:budgetUnit/bkg:region/rdfs:label ?town } GROUP BY ?town""",
    "indicator_levels": """SELECT ?l1 ?l2 (COUNT(?i) AS ?n) WHERE { ?i bkg:level1/skos:prefLabel ?l1 ; bkg:level2/skos:prefLabel ?l2 }
                          GROUP BY ?l1 ?l2""",
}


def rows(store, q: str) -> list[tuple]:
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in store.select(q))


def ground_quads(store) -> set[str]:
    """The dataset as N-Quads lines, without those holding blank nodes (the ontology's, relabelled on load)."""
    return {ln for ln in store.dump("nq").decode("utf-8").splitlines() if ln.strip() and "_:" not in ln}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def wait_until_serving(proc: subprocess.Popen, ready, seconds: float, failure) -> None:
    """Call ``ready()`` until it stops raising OSError; fail with ``failure()`` if the server exits or
    ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            ready()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(failure())
            time.sleep(0.2)


def stop(proc: subprocess.Popen, seconds: float) -> None:
    proc.terminate()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    """``oxigraph serve`` on a free port, with the union of all graphs as the default graph."""
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.skip("the oxigraph server is not installed (pip install oxigraph — in the test extras)")
    port = free_port()
    loc = tmp_path_factory.mktemp("oxigraph-server")
    proc = subprocess.Popen([exe, "serve", "--location", str(loc), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until_serving(proc, lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5).close(), 30,
                       lambda: f"oxigraph serve did not start: {proc.stderr.read().decode(errors='replace')[:500]}")
    yield f"http://127.0.0.1:{port}/query"
    stop(proc, 10)


@pytest.fixture(scope="module")
def remote_ingested(oxigraph_server, tmp_path_factory):
    data = tmp_path_factory.mktemp("remote-data")
    r = cli("--store", oxigraph_server, "--data", str(data), "ingest", str(SAMPLES), "--no-index")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("added") == len(list(SAMPLES.rglob("*.txt")))
    from ingest.remote import SparqlEndpointStore

    store = SparqlEndpointStore(oxigraph_server, read_only=True)
    yield store
    store.close()


def test_open_store_selects_the_remote_endpoint(oxigraph_server, tmp_path):
    from api.settings import Settings
    from ingest.remote import SparqlEndpointStore, update_endpoint
    from ingest.store import OxigraphStore, open_store

    assert update_endpoint(oxigraph_server).endswith("/update")
    assert update_endpoint("http://h:8890/sparql") == "http://h:8890/sparql"
    assert update_endpoint("http://h:7200/repositories/kg") == "http://h:7200/repositories/kg/statements"
    remote = Settings.from_env(tmp_path, env={"BUDGETKG_STORE": oxigraph_server}).remote_store()
    assert isinstance(open_store(tmp_path, read_only=True, remote=remote), SparqlEndpointStore)
    assert Settings.from_env(tmp_path, env={}).remote_store() is None
    assert isinstance(open_store(tmp_path), OxigraphStore)


def test_remote_store_answers_like_the_embedded_one(remote_ingested, samples_store):
    for name, q in COMPARE.items():
        assert rows(remote_ingested, q) == rows(samples_store, q), name
    amounts = {Decimal(r["a"]) for r in remote_ingested.select(COMPARE["amount_2080104"])}
    assert amounts == {Decimal(5217000)}
    assert remote_ingested.documents() == samples_store.documents()


def test_remote_store_holds_the_same_quads(remote_ingested, samples_store):
    assert ground_quads(remote_ingested) == ground_quads(samples_store)


def test_remote_reingest_is_unchanged_and_cli_queries_work(oxigraph_server, remote_ingested, tmp_path):
    before = remote_ingested.documents()
    r = cli("--store", oxigraph_server, "--data", str(tmp_path), "ingest", str(SAMPLES), "--no-index")
    assert r.returncode == 0, r.stderr
    assert "added" not in r.stdout and "replaced" not in r.stdout and "unchanged" in r.stdout
    assert remote_ingested.documents() == before
    r = cli("--data", str(tmp_path), "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?p a bkg:Project }", "--format", "csv",
            env={"BUDGETKG_STORE": oxigraph_server})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-1] == str(rows(remote_ingested, COMPARE["projects"])[0][0][1])
    # CONSTRUCT comes back as triples that serialise like the embedded store's
    r = cli("--store", oxigraph_server, "--data", str(tmp_path), "sparql",
            f'CONSTRUCT {{ ?u rdfs:label ?l }} WHERE {{ ?u a bkg:BudgetUnit ; rdfs:label ?l FILTER(?l = "{QX}") }}', "--format", "nt")
    assert r.returncode == 0, r.stderr
    assert QX in r.stdout and r.stdout.count(" .") == 1
    # a malformed query is reported as such, not as a server failure
    r = cli("--store", oxigraph_server, "--data", str(tmp_path), "sparql", "SELECT ?x WHERE { ?x ")
    assert r.returncode == 2 and "malformed" in r.stderr


def test_unreachable_endpoint_is_a_clear_error(tmp_path):
    r = cli("--store", f"http://127.0.0.1:{free_port()}/query", "--data", str(tmp_path), "sparql", "SELECT * WHERE { ?s ?p ?o }")
    assert r.returncode == 2 and "cannot reach" in r.stderr


# -- write paths of the embedded store ------------------------------------------------------------

def canonical(store) -> list[str]:
    return sorted(str(q) for q in store.ox if "_:" not in str(q))


def test_bulk_ingest_writes_what_single_commits_write(tmp_path):
    from ingest.pipeline import collect, ingest_file, ingest_paths
    from ingest.store import OxigraphStore

    single = OxigraphStore(tmp_path / "single")
    files, _ = collect([SAMPLES])
    assert all(ingest_file(single, f).status == "added" for f in files)
    results = {}
    for name, kwargs in {"batched": {}, "one-triple-batches": {"batch_triples": 1}, "bulk": {"bulk": True}}.items():
        store = OxigraphStore(tmp_path / name)
        out = ingest_paths(store, [SAMPLES], **kwargs)
        assert [o.status for o in out] == ["added"] * len(files)
        assert [Path(o.path).name for o in out] == [f.name for f in files]  # outcomes stay in file order
        results[name] = canonical(store)
        assert all(o.status == "unchanged" for o in ingest_paths(store, [SAMPLES]))  # idempotent
        store.close()
    expected = canonical(single)
    single.close()
    for name, quads in results.items():
        assert quads == expected, name


def test_a_failing_document_leaves_the_batch_without_it(tmp_path):
    from ingest.errors import StoreError
    from ingest.pipeline import ingest_paths
    from ingest.store import OxigraphStore

    store = OxigraphStore(tmp_path / "store")
    real = store._update
    bad = "lanzhou-yongdeng"
    doomed: set[str] = set()

    def update(text: str) -> None:
        if any(g in text for g in doomed):
            raise StoreError("simulated failure")
        real(text)

    from ingest.mapping import map_document
    from ingest.parse import parse_file

    target = next(f for f in SAMPLES.rglob("*.txt") if bad in f.name)
    doomed.add(str(map_document(parse_file(target)).graph_iri))
    store._update = update
    out = ingest_paths(store, [SAMPLES])
    status = {Path(o.path).name: o.status for o in out}
    assert status.pop(target.name) == "error"
    assert set(status.values()) == {"added"}
    docs = store.documents()
    assert not doomed & set(docs) and len(docs) == len(status)
    store.close()


def test_an_interrupted_bulk_load_is_repaired_by_running_it_again(tmp_path):
    """The bulk loader is not transactional: documents whose content hashes were not written count
    as absent, and the next ingest rewrites them whole."""
    from ingest.pipeline import ingest_paths
    from ingest.store import OxigraphStore

    expected_store = OxigraphStore(tmp_path / "expected")
    ingest_paths(expected_store, [SAMPLES])
    expected = canonical(expected_store)
    expected_store.close()

    class Interrupted:
        """The store of a process that dies right after bulk loading: every later write fails."""

        def __init__(self, real):
            self.real = real

        def load(self, *args, **kwargs):
            raise OSError("interrupted")

        def update(self, *args, **kwargs):
            raise OSError("interrupted")

        def __getattr__(self, name):
            return getattr(self.real, name)

    store = OxigraphStore(tmp_path / "store")
    real = store.ox
    store.ox = Interrupted(real)
    out = ingest_paths(store, [SAMPLES], bulk=True)
    assert {o.status for o in out} == {"error"} and not store.documents()
    assert len(real) > 0  # quads of documents without their content hash
    store.ox = real
    out = ingest_paths(store, [SAMPLES])
    assert {o.status for o in out} == {"added"}
    assert canonical(store) == expected
    store.close()


# -- Virtuoso (Debian virtuoso-opensource; `make test` installs it) --------------------------------

@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A private Virtuoso on free ports (:mod:`bench.virtuoso`, as the benchmark starts it), its
    database in a temporary directory, SPARQL updates allowed for the anonymous SPARQL user.
    Yields (query URL, graph store URL)."""
    from bench import virtuoso as vt

    if not vt.available():
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource; `make test` does it)")
    try:
        server = vt.start(tmp_path_factory.mktemp("virtuoso"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.url, server.graph_store_url
    server.stop()


def comparable_quads(store) -> set[str]:
    """budgetkg's own quads without blank nodes; Virtuoso stores xsd:boolean as 1/0, which is the
    same value as true/false (the only lexical form it changes here)."""
    out = set()
    for q in ground_quads(store):
        if "https://w3id.org/budgetkg/" not in q.rsplit(" ", 2)[-2]:
            continue
        out.add(q.replace('"1"^^<http://www.w3.org/2001/XMLSchema#boolean>', '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>')
                 .replace('"0"^^<http://www.w3.org/2001/XMLSchema#boolean>', '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>'))
    return out


def test_virtuoso_holds_and_answers_what_the_embedded_store_does(virtuoso, samples_store, tmp_path):
    """Written through the Graph Store Protocol (one PUT per document; a SPARQL update of a whole
    document is refused by Virtuoso's SQL compiler), read through the SPARQL protocol."""
    from ingest.remote import SparqlEndpointStore

    url, gsp = virtuoso
    env = {"BUDGETKG_STORE_GSP": gsp}
    r = cli("--store", url, "--data", str(tmp_path), "ingest", str(SAMPLES), "--no-index", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("added") == len(list(SAMPLES.rglob("*.txt")))
    store = SparqlEndpointStore(url, read_only=True)
    for name, q in COMPARE.items():
        assert rows(store, q) == rows(samples_store, q), name
    assert store.documents() == samples_store.documents()
    assert comparable_quads(store) == comparable_quads(samples_store)
    # again: nothing changes
    r = cli("--store", url, "--data", str(tmp_path), "ingest", str(SAMPLES), "--no-index", env=env)
    assert r.returncode == 0 and "added" not in r.stdout and "replaced" not in r.stdout, r.stdout + r.stderr
    assert store.documents() == samples_store.documents()


def test_virtuoso_graph_store_refusal_names_the_file_and_writes_no_document(virtuoso, tmp_path):
    from ingest.mapping import map_document
    from ingest.parse import parse_file
    from ingest.remote import SparqlEndpointStore

    url, gsp = virtuoso
    doc = next(SAMPLES.rglob("*shatian*.txt"))
    graph = str(map_document(parse_file(doc)).graph_iri)
    writer = SparqlEndpointStore(url)
    writer._update(f"DROP SILENT GRAPH <{graph}>")
    before = writer.documents()
    assert graph not in before
    r = cli("--store", url, "--data", str(tmp_path), "ingest", str(doc), "--no-index",
            env={"BUDGETKG_STORE_GSP": gsp.replace("sparql-graph-crud", "no-such-graph-store")})
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "ERROR" in out and doc.name in out and "graph store refused" in out
    assert writer.documents() == before
    r = cli("--store", url, "--data", str(tmp_path), "ingest", str(doc), "--no-index", env={"BUDGETKG_STORE_GSP": gsp})
    assert r.returncode == 0 and "added" in r.stdout, r.stdout + r.stderr
    assert graph in writer.documents()
