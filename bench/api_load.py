#!/usr/bin/env python
"""Search throughput under load: 64 concurrent clients against a real ``budgetkg serve``.

    python bench/api_load.py [--data DIR] [--before REV] [--clients 64] [--requests 640] [--rounds 2] [--json]

Starts a real uvicorn server (``python -m api serve``) over ``--data`` (default: a data directory
built from ``samples/`` with ``budgetkg ingest``), asks every question of :data:`QUESTIONS` once,
one at a time (the reference answers, and a warm-up), then sends ``--requests`` searches from
``--clients`` concurrent clients (each sends its next request as soon as its last one is answered)
and reports requests/s, p50/p95/max latency, errors, and how many concurrent answers differ from
the one-at-a-time answer of the same question (``mismatches``: must be 0).

``--before REV`` also measures the code of git revision REV (exported with ``git archive`` into a
temporary folder, served over the same data directory): before and after alternate, round after
round, so that both see the same machine load; ``same_answers_as_before`` compares their one-at-a-time
answers. ``--variant NAME=DIR`` measures the code in DIR too (e.g. a copy with another constant),
in the same alternation. Prints one JSON object (the last line with ``--json``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.api_latency import build_samples, free_port  # noqa: E402  (one copy of each)
from bench.run import SEARCHES  # noqa: E402  (50 questions as researchers type them)

#: the questions sent: bench/run.py's 50, some with explicit filters, one with a SPARQL filter
QUESTIONS: list[dict] = [{"q": q} for q in SEARCHES] + [
    {"q": "政务服务大厅 运维", "kind": "project"},
    {"q": "设备坏了多久能修好", "kind": "indicator"},
    {"q": "群众满意度", "kind": "indicator", "top": 20},
    {"q": "外包 服务", "town": "东莞"},
    {"q": "停车场 改造", "year": 2024},
    {"q": "审前服务", "kind": "task"},
    {"q": "信息化 系统 运维 50万元以上"},
    {"q": "外包", "sparql": "SELECT ?p WHERE { ?p a bkg:Project ; bkg:amount ?a FILTER(?a > 1000000) }"},
]
#: seconds a server may take to load (model, index, SPARQL workers) on a busy machine
START_TIMEOUT = 300
#: seconds one request may take before it counts as an error
REQUEST_TIMEOUT = 120


def export_revision(rev: str, dest: Path) -> Path:
    """The files of git revision ``rev`` in ``dest`` (``git archive``: no worktree, no checkout)."""
    blob = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    return dest


class Server:
    """``python -m api serve`` of the code in ``code`` (its folder comes first on ``sys.path``)."""

    def __init__(self, code: Path, data: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "PYTHONPATH": str(code)}
        self.proc = subprocess.Popen([sys.executable, "-m", "api", "--data", str(data), "serve", "--port", str(self.port)],
                                     cwd=code, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit(f"server did not start within {START_TIMEOUT} s; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def stats(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return {"n": len(ms), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "max_ms": round(ms[-1], 1)}


async def one_at_a_time(url: str) -> list[object]:
    """Every question once, in order, one request at a time: the reference answers."""
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        out = []
        for params in QUESTIONS:
            r = await client.get("/api/search", params=params)
            r.raise_for_status()
            out.append(r.json())
        return out


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams. The load generator shares the 2
    cores with the server it measures: httpx spent ~10 ms of CPU per request here, more than the
    server's own work, so the clients send prepared requests and read only the status, the length
    and the body."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: " + self.host.encode() + b"\r\n\r\n")
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(int(v) for k, _, v in (ln.partition(b":") for ln in lines[1:]) if k.lower() == b"content-length")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def load(url: str, clients: int, requests: int, reference: list[object]) -> dict:
    """``requests`` searches from ``clients`` closed-loop clients (one connection each); answers
    compared with ``reference``."""
    host, port = httpx.URL(url).host, httpx.URL(url).port
    targets = [str(httpx.URL("/api/search", params=p)).encode() for p in QUESTIONS]
    latencies: list[float] = []
    errors: list[str] = []
    bodies: list[tuple[int, bytes]] = []
    next_request = 0

    async def client_loop() -> None:
        nonlocal next_request
        conn = Connection(host, port)
        try:
            while next_request < requests:
                k = next_request
                next_request += 1
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.get(targets[k % len(targets)]), REQUEST_TIMEOUT)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, StopIteration) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    await conn.close()
                    conn = Connection(host, port)
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors.append(f"{status}: {body[:200]!r}")
                else:
                    bodies.append((k % len(targets), body))
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    seconds = time.perf_counter() - t0
    # compared after the clock stops: parsing 640 answers is the client's work, not the server's
    mismatches = sum(1 for k, body in bodies if json.loads(body) != reference[k])
    return {"requests_per_s": round(requests / seconds, 1), **stats(latencies), "seconds": round(seconds, 1),
            "errors": len(errors), "first_errors": errors[:3], "mismatches": mismatches}


def measure(code: Path, data: Path, log: Path, clients: int, requests: int) -> tuple[dict, list[object]]:
    server = Server(code, data, log)
    try:
        server.wait_ready()
        reference = asyncio.run(one_at_a_time(server.url))  # also warms every code path up
        t0 = time.perf_counter()
        asyncio.run(one_at_a_time(server.url))
        sequential_ms = (time.perf_counter() - t0) * 1000 / len(QUESTIONS)
        result = asyncio.run(load(server.url, clients, requests, reference))
        result["one_at_a_time_mean_ms"] = round(sequential_ms, 1)
        return result, reference
    finally:
        server.stop()


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="a data directory built by `budgetkg ingest` (default: the samples)")
    ap.add_argument("--before", metavar="REV", help="also measure the code of this git revision (e.g. main)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=DIR",
                    help="also measure the code in DIR under NAME (repeatable)")
    ap.add_argument("--clients", type=int, default=64, help="concurrent clients")
    ap.add_argument("--requests", type=int, default=640, help="searches per measurement")
    ap.add_argument("--rounds", type=int, default=2, help="measurements per code version (alternating)")
    ap.add_argument("--json", action="store_true", help="compact JSON (default: indented)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bkg-bench-load-") as tmp:
        tmp_path = Path(tmp)
        data = args.data or build_samples(tmp_path)
        versions = {"after": ROOT}
        if args.before:
            versions = {"before": export_revision(args.before, tmp_path / "before"), **versions}
        for variant in args.variant:
            name, _, folder = variant.partition("=")
            versions[name] = Path(folder).resolve()
        report: dict = {"data": str(data), "clients": args.clients, "requests": args.requests, "cpus": os.cpu_count(),
                        "questions": len(QUESTIONS), "loadavg_start": loadavg()}
        answers: dict[str, list[object]] = {}
        for r in range(args.rounds):
            for name, code in versions.items():
                res, ref = measure(code, data, tmp_path / f"server-{name}-{r}.log", args.clients, args.requests)
                res["loadavg"] = loadavg()
                report.setdefault(name, {"rounds": []})["rounds"].append(res)
                answers[name] = ref
                print(f"{name} round {r + 1}: {json.dumps(res, ensure_ascii=False)}", file=sys.stderr)
        for name in versions:
            rounds = report[name]["rounds"]
            report[name]["best_requests_per_s"] = max(x["requests_per_s"] for x in rounds)
            report[name]["median_p95_ms"] = statistics.median(x["p95_ms"] for x in rounds if "p95_ms" in x)
            report[name]["mismatches"] = sum(x["mismatches"] for x in rounds)
            report[name]["errors"] = sum(x["errors"] for x in rounds)
        if "before" in versions:
            report["speedup"] = round(report["after"]["best_requests_per_s"] / report["before"]["best_requests_per_s"], 2)
            report["same_answers_as_before"] = answers["before"] == answers["after"]
        for name in versions:
            report[name]["same_answers_as_after"] = answers[name] == answers["after"]
        report["loadavg_end"] = loadavg()
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
