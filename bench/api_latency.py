#!/usr/bin/env python
"""Latency of the HTTP API on a real server: p50/p95 of /api/search, /api/similar and /sparql.

    python bench/api_latency.py [--data DIR] [--requests 200] [--clients 8] [--json]

Starts ``budgetkg serve`` on a free port over ``--data`` (or over a data directory built from
``samples/`` with ``budgetkg ingest`` when not given), warms it up, then sends a fixed, realistic
set of questions and SPARQL queries: first one at a time (latency), then from ``--clients``
concurrent clients (latency under load, throughput). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

#: questions as researchers type them: keywords, colloquial, with filters in the words, per kind
SEARCHES = [
    {"q": "自助终端 租赁"},
    {"q": "政务服务大厅 运维", "kind": "project"},
    {"q": "设备坏了多久能修好", "kind": "indicator"},
    {"q": "给窗口工作人员做工装"},
    {"q": "清溪镇2024年的租赁项目"},
    {"q": "群众满意度", "kind": "indicator", "top": 20},
    {"q": "外包 服务", "town": "东莞"},
    {"q": "停车场 改造", "year": 2024},
    {"q": "审前服务", "kind": "task"},
    {"q": "信息化 系统 运维 50万元以上"},
    {"q": "外包", "sparql": "SELECT ?p WHERE { ?p a bkg:Project ; bkg:amount ?a FILTER(?a > 1000000) }"},
]

#: what a data team asks: rankings, joins over the hierarchy, aggregates, a DESCRIBE, similarity
SPARQL = [
    "SELECT ?n ?a WHERE { ?p a bkg:Project ; rdfs:label ?n ; bkg:amount ?a } ORDER BY DESC(?a) LIMIT 10",
    """SELECT ?town ?project ?indicator ?target WHERE {
         ?p a bkg:Project ; rdfs:label ?project ; bkg:hasIndicator ?i ; bkg:budgetUnit/bkg:region/rdfs:label ?town .
         ?i rdfs:label ?indicator ; bkg:level2/skos:prefLabel "时效指标" ; bkg:annualTarget ?target } LIMIT 200""",
    """SELECT ?town (COUNT(?p) AS ?projects) (SUM(?a) AS ?yuan) WHERE {
         ?p a bkg:Project ; bkg:amount ?a ; bkg:budgetUnit/bkg:region/rdfs:label ?town } GROUP BY ?town ORDER BY DESC(?yuan)""",
    """SELECT ?unit ?amount ?kuan WHERE { ?l bkg:classification ?c ; bkg:amount ?amount ; bkg:budgetUnit/rdfs:label ?unit .
         ?c skos:notation "2010350" ; skos:broader/skos:prefLabel ?kuan } LIMIT 100""",
    "ASK { ?t a bkg:KeyTask }",
    """SELECT ?p ?name ?s WHERE { ?p a bkg:Project ; rdfs:label ?name .
         BIND(bkg:similarity(?name, "自助终端 租赁") AS ?s) } ORDER BY DESC(?s) LIMIT 10""",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_samples(workdir: Path) -> Path:
    data = workdir / "data"
    subprocess.run([sys.executable, "-m", "api", "--data", str(data), "ingest", str(ROOT / "samples")],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return data


def start_server(data: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "api", "--data", str(data), "serve", "--port", str(port)],
                            cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    sys.exit(f"server did not start; see {log}")


def stats(ms: list[float]) -> dict:
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {"n": len(ms), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "mean_ms": round(statistics.fmean(ms), 1),
            "max_ms": round(ms[-1], 1)}


def request_fn(kind: str, similar_iris: list[str]):
    def send(client: httpx.Client, k: int) -> float:
        t0 = time.perf_counter()
        if kind == "search":
            r = client.get("/api/search", params=SEARCHES[k % len(SEARCHES)])
        elif kind == "similar":
            r = client.get("/api/similar", params={"iri": similar_iris[k % len(similar_iris)], "other_towns": "true"})
        else:
            r = client.get("/sparql", params={"query": SPARQL[k % len(SPARQL)]},
                           headers={"Accept": "application/sparql-results+json"})
        r.raise_for_status()
        return (time.perf_counter() - t0) * 1000

    return send


def run(url: str, kind: str, n: int, clients: int, similar_iris: list[str]) -> dict:
    send = request_fn(kind, similar_iris)
    t0 = time.perf_counter()
    if clients == 1:
        with httpx.Client(base_url=url, timeout=120) as c:
            ms = [send(c, k) for k in range(n)]
    else:
        def worker(w: int) -> list[float]:
            with httpx.Client(base_url=url, timeout=120) as c:
                return [send(c, k) for k in range(w, n, clients)]

        with ThreadPoolExecutor(clients) as pool:
            ms = [x for part in pool.map(worker, range(clients)) for x in part]
    out = stats(ms)
    out["per_second"] = round(n / (time.perf_counter() - t0), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="a data directory built by `budgetkg ingest` (default: the samples)")
    ap.add_argument("--requests", type=int, default=200, help="requests per endpoint and mode")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients for the load run")
    ap.add_argument("--json", action="store_true", help="compact JSON (default: indented)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bkg-bench-api-") as tmp:
        data = args.data or build_samples(Path(tmp))
        t0 = time.perf_counter()
        proc, url = start_server(data, Path(tmp) / "server.log")
        startup = time.perf_counter() - t0
        try:
            health = httpx.get(url + "/api/health").json()
            projects = httpx.get(url + "/sparql", params={"query": "SELECT ?p WHERE { ?p a bkg:Project } LIMIT 20"}).json()
            similar_iris = [b["p"]["value"] for b in projects["results"]["bindings"]]
            for kind in ("search", "sparql", "similar"):  # warm-up: every query once
                run(url, kind, len(SEARCHES) + len(SPARQL), 1, similar_iris)
            report = {"data": str(data), "documents": health["documents"], "items": health["items"],
                      "server_start_seconds": round(startup, 1), "cpus": os.cpu_count()}
            for kind in ("search", "sparql", "similar"):
                report[kind] = run(url, kind, args.requests, 1, similar_iris)
                report[f"{kind}_{args.clients}_clients"] = run(url, kind, args.requests, args.clients, similar_iris)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
