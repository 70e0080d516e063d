"""Hostile input against a real server: each row of the table is one request and the status it must
get; while it is in flight ``/api/health`` is polled (it must keep answering at once), and afterwards
the server is still whole (health 200, every SPARQL worker back, an ordinary query answered).

Also: workers killed from outside are replaced without a 503 for anyone, a cancelled request never
hands its worker on, and the CLI refuses what would crash a parser.
"""
from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from conftest import ROOT
from served import MEMORY_MB, TIMEOUT_S

pytestmark = pytest.mark.slow

#: the goal: /api/health answers within 100 ms while any single request is being handled. Asserted on
#: the median of the polls made meanwhile, with every poll under HEALTH_WORST (headroom for a loaded
#: 2-core machine; before the queries were parsed off the event loop, one request held health 20–35 s)
HEALTH_GOAL = 0.100
HEALTH_WORST = 1.0
#: pause between two health polls, so that polling does not load the server it measures
POLL_PAUSE = 0.01
ORDINARY = "SELECT (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project }"
UNIT = "东莞市清溪镇政务服务中心"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Row:
    """One hostile request and what it must get."""

    name: str
    status: int
    method: str = "POST"
    path: str = "/sparql"
    data: dict | None = None  # form fields
    content: bytes | None = None
    headers: dict = field(default_factory=dict)
    detail: str = ""  # a word the error's detail must hold


def q(query: str, **more) -> dict:
    return {"query": query, **more}


UPDATES = [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "insert data { <urn:a> <urn:b> <urn:c> }",
    "InSeRt { <urn:a> <urn:b> ?o } WHERE { ?s ?p ?o }", "DELETE WHERE { ?s ?p ?o }", "delete { ?s ?p ?o } where { ?s ?p ?o }",
    "WITH <urn:g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", "CLEAR ALL", "clear silent graph <urn:g>",
    "DROP DEFAULT", "drop all", "CREATE GRAPH <urn:g>", "ADD <urn:a> TO <urn:b>", "MOVE DEFAULT TO <urn:g>",
    "COPY <urn:a> TO DEFAULT", "LOAD <http://127.0.0.1:9/x>", "load silent <http://127.0.0.1:9/x> into graph <urn:g>",
    "PREFIX ex: <http://example.org/> # a comment\nBASE <http://example.org/>\n INSERT DATA { ex:a ex:b ex:c }",
]
SERVICES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o . SeRvIcE ?s { ?a ?b ?c } }",
    "SELECT * WHERE { SERVICE # a comment\n SILENT # another\n <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * WHERE { OPTIONAL { { SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } } } }",
    "ASK { FILTER EXISTS { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } }",
    "PREFIX e: <http://127.0.0.1:9/> CONSTRUCT { ?s ?p ?o } WHERE { SERVICE e:x { ?s ?p ?o } }",
    "DESCRIBE ?s WHERE { ?s ?p ?o MINUS { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?s ?p '''a\\'''' . SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } ?s ?p ''' ''' }",
    "SELECT * WHERE { BIND(bkg:a\\' AS ?z) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } FILTER(?z != 'x') }",
]
MEMORY_HOG = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"

ROWS = [
    Row("huge malformed query", 400, data=q("SELECT * WHERE { " + "?s ?p ?o . " * 5450)),
    # held the event loop 34 s before (a regex tried every start of this word)
    Row("60,000-character malformed word", 400, data=q("SELECT * WHERE { ?s ?p " + "a-" * 30000 + " }")),
    Row("huge malformed query in a direct POST", 400, content=("SELECT * WHERE { " + "?s ?p ?o ; " * 5450).encode(),
        headers={"Content-Type": "application/sparql-query"}),
    Row("unterminated long string", 400, data=q("SELECT * WHERE { ?s ?p '''" + "a'b\\'" * 15000 + " }")),
    Row("bkg:similarity( repeated 3,000 times", 400, data=q("SELECT * WHERE { BIND(" + "bkg:similarity(" * 3000 + " }"),
        detail="deep"),
    Row("5,000 nested parentheses", 400, data=q("SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"),
        detail="deep"),
    Row("5,000 nested groups", 400, data=q("SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000), detail="deep"),
    Row("5,000 nested blank nodes", 400, data=q("SELECT * WHERE { ?s ?p " + "[ rdfs:label " * 5000 + "1" + " ]" * 5000 + " }"),
        detail="deep"),
    Row("50,000 negations", 400, data=q("SELECT * WHERE { FILTER(" + "!" * 50000 + "true) }")),
    Row("too long", 413, data=q("SELECT * WHERE { ?s ?p ?o } #" + "x" * 100_000)),
    Row("default-graph-uri=not an iri", 400, method="GET", path="/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri"),
    Row("named-graph-uri=not an iri in a form", 400, data=q("ASK {}", **{"named-graph-uri": "not an iri"})),
    Row("two query=", 400, method="GET", path="/sparql?query=ASK%7B%7D&query=SELECT%20*%20%7B%7D"),
    Row("query in URL and body", 400, path="/sparql?query=ASK%7B%7D", data=q("ASK {}")),
    Row("raw UTF-8 form body without charset", 200,
        content=f'query=SELECT ?u WHERE {{ ?u rdfs:label "{UNIT}" }}'.encode("utf-8"), headers=FORM),
    Row("form body that is not UTF-8", 400, content=b"query=ASK {} # \xff\xfe", headers=FORM),
    Row("UTF-16 direct POST", 415, content="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"}),
    Row("a query followed by an update", 400, data=q("SELECT * WHERE { ?s ?p ?o } ; INSERT DATA { <urn:a> <urn:b> <urn:c> }")),
    Row("update= in a GET", 403, method="GET", path="/sparql?update=CLEAR%20ALL"),
    Row("application/sparql-update", 403, content=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"}),
    *[Row(f"update: {u[:40]}", 403, data=q(u), detail="not allowed") for u in UPDATES],
    *[Row(f"update= form: {u[:40]}", 403, data={"update": u}) for u in UPDATES[:3]],
    *[Row(f"service: {s[:50]}", 403, data=q(s), detail="SERVICE") for s in SERVICES],
    # Oxigraph reads this as a SERVICE call (it would send it); rdflib cannot read it: never run, 400
    Row("SERVICE glued to a number", 400, data=q("SELECT * WHERE { ?s ?p 1SERVICE<http://127.0.0.1:9/>{ ?a ?b ?c } }")),
    Row("a query over the memory limit", 503, data=q(MEMORY_HOG), detail="MiB"),
]


class HealthPoller:
    """Polls /api/health from a thread; :meth:`during` gives the latencies of the polls that
    overlapped an interval."""

    def __init__(self, url: str):
        self.url = url
        self.polls: list[tuple[float, float]] = []  # (start, end), time.perf_counter()
        self.first = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        with httpx.Client(timeout=60) as c:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                assert c.get(self.url + "/api/health").status_code == 200
                self.polls.append((t0, time.perf_counter()))
                self.first.set()
                self.stop.wait(POLL_PAUSE)

    def __enter__(self) -> "HealthPoller":
        self.thread.start()
        assert self.first.wait(60), "health never answered"
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def during(self, start: float, end: float) -> list[float]:
        return [e - s for s, e in self.polls if s < end and e > start]


def send(url: str, row: Row) -> httpx.Response:
    with httpx.Client(timeout=120) as c:
        return c.request(row.method, url + row.path, data=row.data, content=row.content, headers=row.headers)


def in_flight(server, row: Row) -> tuple[httpx.Response, list[float]]:
    """Send the row's request while polling health; (response, latencies of the polls made meanwhile)."""
    with HealthPoller(server.url) as poller:
        start = time.perf_counter()
        resp = send(server.url, row)
        end = time.perf_counter()
    return resp, poller.during(start, end)


def assert_healthy(server) -> None:
    server.wait_workers(2)
    r = httpx.get(server.url + "/sparql", params={"query": ORDINARY}, timeout=60)
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "27"


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_hostile_request(protocol_server, row):
    resp, latencies = in_flight(protocol_server, row)
    assert resp.status_code == row.status, resp.text[:500]
    if row.status >= 400:
        body = resp.json()
        assert body["error"] and row.detail in body["detail"], body
    else:
        assert resp.json()["results"]["bindings"], resp.text  # the Chinese label matched: read as UTF-8
    assert max(latencies, default=0) < calm_limits(protocol_server)[1], latencies
    assert_healthy(protocol_server)


HEALTH_ROWS = [r for r in ROWS if r.name in ("huge malformed query", "60,000-character malformed word",
                                               "bkg:similarity( repeated 3,000 times",
                                               "unterminated long string", "a query over the memory limit")]


def calm_limits(server) -> tuple[float, float]:
    """(median, worst) health latency allowed while a request is in flight: the goals, or — on a machine
    so busy that health is slow with nothing in flight — a multiple of what it takes then (measured now,
    the same way), so that the test says whether a request stalls the server, not how loaded the machine is.
    Measured again when a minute old (the load changes)."""
    if time.monotonic() - _CALM.get("at", -1e9) < 60:
        return _CALM["limits"]
    with HealthPoller(server.url) as poller:
        deadline = time.monotonic() + 60
        while len(poller.polls) < 30 and time.monotonic() < deadline:
            poller.stop.wait(0.05)
        calm = [e - s for s, e in poller.polls]
    _CALM.update(at=time.monotonic(), limits=(max(HEALTH_GOAL, 4 * statistics.median(calm)),
                                              max(HEALTH_WORST, 10 * max(calm))))
    return _CALM["limits"]


_CALM: dict = {}


def test_health_answers_within_100_ms_while_a_hostile_request_runs(protocol_server):
    """The hostile requests that stalled the event loop before, each in flight while health is polled."""
    goal, worst_allowed = calm_limits(protocol_server)
    report = {}
    for row in HEALTH_ROWS:
        resp, latencies = in_flight(protocol_server, row)
        assert resp.status_code == row.status, resp.text[:300]
        assert latencies, f"{row.name}: no health poll completed while it ran"
        report[row.name] = (len(latencies), statistics.median(latencies), max(latencies))
        protocol_server.wait_workers(2)
    print("\nhealth latency while in flight (polls, median s, max s):", report)
    for name, (_, median, worst) in report.items():
        assert median < goal and worst < worst_allowed, (name, report, goal, worst_allowed)


def test_an_expensive_query_times_out_and_health_stays_fast(protocol_server):
    row = Row("expensive", 503, data=q("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"))
    goal, worst_allowed = calm_limits(protocol_server)
    resp, latencies = in_flight(protocol_server, row)
    assert resp.status_code == 503 and "timed out" in resp.json()["error"]
    assert len(latencies) > 10 and statistics.median(latencies) < goal and max(latencies) < worst_allowed
    assert_healthy(protocol_server)


# -- workers that die ---------------------------------------------------------------------------

def test_killed_workers_are_replaced_without_503s(protocol_server):
    pids = protocol_server.worker_pids()
    assert len(pids) == 3  # two in service and the spare
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: httpx.get(protocol_server.url + "/sparql", params={"query": ORDINARY},
                                                     timeout=60).status_code, range(16)))
    assert statuses == [200] * 16
    assert_healthy(protocol_server)
    assert not set(protocol_server.worker_pids()) & set(pids)


def test_a_worker_killed_mid_query_fails_that_query_only(protocol_server):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with ThreadPoolExecutor(1) as pool:
        start = {p: cpu_ticks(p) for p in protocol_server.worker_pids()}
        running = pool.submit(lambda: httpx.get(protocol_server.url + "/sparql", params={"query": slow}, timeout=60))
        # the worker whose CPU time grows runs it: counted from the start, so that a busy machine giving
        # it little CPU still shows it; looked for until shortly before the server's own timeout kills it
        deadline = time.monotonic() + 0.8 * TIMEOUT_S
        busy = None
        while busy is None and time.monotonic() < deadline:
            time.sleep(0.1)
            grown, pid = max(((cpu_ticks(p) - t, p) for p, t in start.items()), default=(0, None))
            busy = pid if grown > 5 else None
        assert busy is not None, "no worker picked the query up"
        os.kill(busy, signal.SIGKILL)
        others = [httpx.get(protocol_server.url + "/sparql", params={"query": ORDINARY}, timeout=60) for _ in range(4)]
        resp = running.result()
    assert resp.status_code == 500 and "ended" in resp.json()["detail"]
    assert [r.status_code for r in others] == [200] * 4
    assert_healthy(protocol_server)


def cpu_ticks(pid: int) -> int:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_a_cancelled_request_never_hands_its_worker_on(samples_index_dir):
    """At the pool's level, with real workers: a request cancelled while its worker computes must
    not return that worker to the idle queue (a thread still reads its pipe); the next query gets
    its own answer from a fresh worker."""
    from api.sparql_pool import Job, SparqlPool

    async def scenario():
        pool = SparqlPool(samples_index_dir, "none", size=1, timeout=30, memory_mb=MEMORY_MB)
        await pool.start()
        try:
            slow = asyncio.create_task(pool.run(Job(query="SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                                                    fmt="json")))
            while pool.idle:  # until the job has its worker: a thread now talks to it
                await asyncio.sleep(0.01)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            outcome = await pool.run(Job(query="SELECT ?x WHERE { VALUES ?x { 'mine' } }", fmt="csv"))
            return outcome, pool.replaced
        finally:
            await pool.close()

    outcome, replaced = asyncio.run(scenario())
    assert outcome.body.decode().split() == ["x", "mine"]
    assert replaced == 1


# -- the CLI ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,code,message", [
    ("SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }", 2, "deep"),
    ("SELECT * WHERE { FILTER(" + "!" * 50000 + "true) }", 2, "malformed"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", 2, "SERVICE"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", 2, "read-only"),
    ("SELECT (COUNT(*) AS ?n) FROM <http://example.org/nothing> WHERE { ?s ?p ?o }", 0, '"0"'),
])
def test_cli_sparql_refuses_what_would_crash_it(samples_store_dir, tmp_path, query, code, message):
    qf = tmp_path / "q.rq"
    qf.write_text(query, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "api", "--data", str(samples_store_dir), "sparql", f"@{qf}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == code, out.stderr[-2000:]
    assert message in (out.stderr if code else out.stdout)
