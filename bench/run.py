#!/usr/bin/env python
"""The benchmark: generate (or reuse) a corpus, ingest and index it into a fresh data directory,
then measure SPARQL and search in the same process and print one JSON object (the last line)::

    python bench/run.py --projects 5000 --json

What is measured (all times wall clock, this machine, nothing else tuned for the run):

- ``ingest``: parse → map → write of every generated document (``--bulk``, the default: Oxigraph's
  bulk loader for new documents; ``--no-bulk``: transactional updates of several documents, as
  ``budgetkg ingest`` writes), ``docs_per_s``; ``index``: :func:`index.build.build_index` with the model
  already loaded (its load time is ``index.model_load_seconds``), ``unique_text_ratio`` = distinct
  texts embedded / texts indexed.
- ``sparql``: :data:`QUERIES` (filters, joins, GROUP BY town / code) on the embedded Oxigraph store,
  each run ``--repeat`` times after a warm-up; p50/p95 over all runs. ``speedup_vs_rdflib`` is the
  median over queries of (rdflib time / Oxigraph median time), rdflib's in-memory ``Dataset``
  (default union) holding the same quads (the store's N-Quads dump). rdflib runs in a separate
  process so that its memory (GBs) is not counted in ``rss_mb`` and a query can be stopped: each
  query gets ``--rdflib-budget`` seconds; one that runs out counts with the budget as its time,
  which makes its ratio — and possibly the median — a lower bound (``speedup_is_lower_bound``).
- ``sparql.scale_out``: the same queries on the scale-out store, a private Virtuoso
  (:mod:`bench.virtuoso`, when installed; ``--no-scale-out`` skips it) filled by budgetkg's ingest
  through the Graph Store Protocol (``--reuse``: by Virtuoso's bulk loader from the dump), with its own
  ``speedup_vs_rdflib`` against the same rdflib times and checks that it holds the same triples and
  returns the same rows. The server is another process: its memory is ``server_peak_rss_mb``.
- ``search``: :data:`SEARCHES` (50 Chinese questions: keywords, colloquial, with place, year and
  amount words) through :meth:`SearchEngine.search` (understanding + hybrid ranking + results);
  ``query_embed_ms_p50`` is the model call alone; ``filtered_p95_ms`` the same questions restricted
  to the items among the IRIs a SPARQL SELECT returned (:data:`FILTERS`), as the server does it: the
  SELECT (``sparql_filter_ms_p50``) and the resolution of its IRIs to items (``filter_resolve_ms``)
  run once per filter, timed apart; ``filtered_beyond_embed_p95_ms`` is the filtered search less the
  model call (timed just before, as for the unfiltered ``beyond_embed_p95_ms``: the comparison that
  the model's jitter does not blur); ``filtered_unresolved_p95_ms`` passes the IRI set to each search.
  ``search.ann`` compares an HNSW index over the same text vectors with exact search: recall@10 of
  the texts found and of the final hybrid top 10.
- ``rss_mb``: peak resident memory of this process (``resource.getrusage``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE = Path(__file__).resolve().parent / ".cache"

#: realistic SPARQL: filters, joins, GROUP BY by town and by classification code
QUERIES: dict[str, str] = {
    "projects_in_town_over_amount": """
        SELECT ?p ?name ?amount WHERE { ?p a bkg:Project ; rdfs:label ?name ; bkg:amount ?amount ; bkg:budgetUnit ?u .
          ?u bkg:region ?r . ?r rdfs:label ?town . FILTER(?town = "清溪镇" && ?amount > 100000) } ORDER BY DESC(?amount)""",
    "project_totals_by_town": """
        SELECT ?town (COUNT(?p) AS ?projects) (SUM(?amount) AS ?total) WHERE {
          ?p a bkg:Project ; bkg:amount ?amount ; bkg:budgetUnit/bkg:region/rdfs:label ?town } GROUP BY ?town ORDER BY DESC(?total)""",
    "budget_lines_by_function_code": """
        SELECT ?code (SAMPLE(?label) AS ?name) (SUM(?a) AS ?total) (COUNT(?l) AS ?lines) WHERE {
          ?l a bkg:BudgetLine ; bkg:classification ?c ; bkg:amount ?a . ?c skos:notation ?code ; skos:inScheme bkg:FunctionalClassification .
          OPTIONAL { ?c skos:prefLabel ?label } } GROUP BY ?code ORDER BY ?code""",
    "code_2080104_by_town_and_year": """
        SELECT ?town ?year (SUM(?a) AS ?total) WHERE { ?l bkg:classification ?c ; bkg:amount ?a ; bkg:fiscalYear ?year ;
          bkg:budgetUnit/bkg:region/rdfs:label ?town . ?c skos:notation "2080104" } GROUP BY ?town ?year ORDER BY ?town ?year""",
    "satisfaction_indicators_with_projects": """
        SELECT ?p ?name ?text ?target WHERE { ?p a bkg:Project ; rdfs:label ?name ; bkg:hasIndicator ?i .
          ?i rdfs:label ?text ; bkg:level1/skos:prefLabel "满意度指标" . OPTIONAL { ?i bkg:annualTarget ?target }
          FILTER(CONTAINS(?text, "满意")) }""",
    "indicators_by_level": """
        SELECT ?l1 ?l2 (COUNT(?i) AS ?n) WHERE { ?i a bkg:PerformanceIndicator ; bkg:level1/skos:prefLabel ?l1 ;
          bkg:level2/skos:prefLabel ?l2 } GROUP BY ?l1 ?l2 ORDER BY DESC(?n)""",
    "key_tasks_2024_by_amount": """
        SELECT ?k ?name ?amount ?unit WHERE { ?k a bkg:KeyTask ; rdfs:label ?name ; bkg:budgetUnit/rdfs:label ?unit ;
          bkg:amount ?amount ; bkg:fiscalYear 2024 } ORDER BY DESC(?amount) LIMIT 100""",
    "recent_projects_by_type": """
        SELECT ?type (COUNT(?p) AS ?n) (AVG(?amount) AS ?mean) WHERE { ?p a bkg:Project ; bkg:projectType ?type ;
          bkg:fiscalYear ?y ; bkg:amount ?amount FILTER(?y >= 2023) } GROUP BY ?type ORDER BY DESC(?n)""",
}

#: 50 questions as people ask them: keywords, colloquial phrasing, place / year / amount words
SEARCHES = [
    "自助终端租赁", "哪些镇在租自助终端？", "政务服务大厅运营", "政务服务中心 安保服务", "第三方人力外包",
    "宣传经费", "食堂伙食费", "办公设备维修", "设备坏了多久能修好", "报障后维护人员到场时间",
    "绿化养护", "环境卫生清扫保洁", "垃圾分类", "消防安全检查", "安全生产隐患排查",
    "网格化管理", "数字城管平台运维", "社区矫正", "法律援助", "人民调解",
    "退役军人服务", "就业培训补贴", "劳动保障监察", "图书馆购书", "文化活动场地租赁",
    "疫情防控物资", "疾病预防控制", "农田水利建设", "河道整治", "水务工程维护",
    "不动产登记系统", "公共资源交易平台", "招商引资活动", "档案数字化", "信息化建设运维",
    "清溪镇的项目", "东莞 2024年 维修", "永登县 单位预算", "普陀区 司法局", "2026年 党建工作经费",
    "超过100万元的项目", "五十万以内的宣传项目", "群众满意度", "服务对象满意度调查", "预算执行率",
    "办件量", "按时完成率", "有效提高办事效率", "减少群众跑腿", "租赁费用",
]

#: SPARQL SELECTs whose first variable restricts a search (the ``sparql`` filter of /api/search)
FILTERS = [
    "SELECT ?p WHERE { ?p a bkg:Project ; bkg:fiscalYear 2024 }",
    "SELECT ?p WHERE { ?p a bkg:Project ; bkg:amount ?a FILTER(?a > 500000) }",
    "SELECT ?i WHERE { ?i a bkg:PerformanceIndicator ; bkg:level1/skos:prefLabel \"效益指标\" }",
    "SELECT ?p WHERE { ?p a bkg:Project ; bkg:budgetUnit/bkg:region/bkg:partOf?/rdfs:label \"东莞市\" }",
]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(x: float) -> float:
    return round(x * 1000, 2)


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux: KiB


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- corpus ----------------------------------------------------------------------------------------

def corpus(projects: int, seed: int) -> tuple[Path, dict, bool]:
    """The generated corpus for (projects, seed), cached under bench/.cache (written once)."""
    from bench.generate import generate

    d = CACHE / f"corpus-n{projects}-s{seed}"
    stats_file = d / "stats.json"
    if stats_file.exists():
        return d, json.loads(stats_file.read_text(encoding="utf-8")), True
    tmp = CACHE / f".tmp-corpus-n{projects}-s{seed}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    stats = generate(tmp / "docs", projects, seed)
    (tmp / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    shutil.rmtree(d, ignore_errors=True)
    tmp.rename(d)
    return d, stats, False


# -- rdflib baseline (separate process) ----------------------------------------------------------

def _rdflib_worker(conn, nq_path: str, queries: list[tuple[str, str]], budget: float) -> None:
    """Load the quads into rdflib's in-memory Dataset, then run each query in a forked child that
    is killed when it exceeds ``budget`` seconds. Sends ("loaded", s, n) then ("query", name, s|None, rows)."""
    import signal

    from rdflib import Dataset

    t = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(source=nq_path, format="nquads")
    conn.send(("loaded", time.perf_counter() - t, len(ds)))
    for name, text in queries:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, report, leave without cleanup
            os.close(r)
            t0 = time.perf_counter()
            rows = sum(1 for _ in ds.query(text))
            os.write(w, json.dumps([time.perf_counter() - t0, rows]).encode())
            os._exit(0)
        os.close(w)
        import select

        ready, _, _ = select.select([r], [], [], budget)
        if ready:
            data = b""
            while chunk := os.read(r, 4096):
                data += chunk
            os.waitpid(pid, 0)
            secs, rows = json.loads(data) if data else (None, None)
            conn.send(("query", name, secs, rows))
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            conn.send(("query", name, None, None))
        os.close(r)
    conn.send(("done",))


def rdflib_baseline(nq_path: Path, queries: dict[str, str], budget: float, load_budget: float) -> dict:
    import multiprocessing as mp

    from ontology import sparql_prefixes

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_rdflib_worker, args=(child, str(nq_path), [(n, sparql_prefixes() + q) for n, q in queries.items()], budget))
    proc.start()
    child.close()
    out: dict = {"queries": {}}
    deadline = time.monotonic() + load_budget
    try:
        if not parent.poll(max(1.0, deadline - time.monotonic())):
            out["skipped"] = f"loading into rdflib took more than {load_budget:.0f} s"
            return out
        _, load_s, n = parent.recv()
        out["load_seconds"] = round(load_s, 1)
        out["triples_loaded"] = n
        for _ in queries:
            if not parent.poll(budget + 30):
                break
            msg = parent.recv()
            if msg[0] != "query":
                break
            _, name, secs, rows = msg
            out["queries"][name] = {"seconds": None if secs is None else round(secs, 3), "rows": rows}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
    return out


def speedups(rdflib_queries: dict, times: dict[str, list[float]], budget: float) -> dict:
    """Median over queries of rdflib's time / the store's median time; a query rdflib did not finish
    within ``budget`` counts with the budget, which makes its ratio (and perhaps the median) a lower bound."""
    ratios, per, lower = [], {}, False
    for name, r in rdflib_queries.items():
        med = statistics.median(times[name])
        if r["seconds"] is None:
            per[name], lower = round(budget / med, 1), True
        else:
            per[name] = round(r["seconds"] / med, 1)
        ratios.append(per[name])
    if not ratios:
        return {}
    return {"speedup_vs_rdflib": round(statistics.median(ratios), 1), "speedup_is_lower_bound": lower,
            "rdflib_queries_compared": len(ratios), "speedup_per_query": per}


def time_queries(store, repeat: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """:data:`QUERIES` through ``store.query`` (as the CLI and the API run them), rows read to the
    end: ``repeat`` timed runs each after one warm-up. Returns (seconds per query, rows per query)."""
    from ontology import PREFIXES

    times: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    for name, q in QUERIES.items():
        rows[name] = sum(1 for _ in store.query(q, prefixes=PREFIXES))  # warm-up
        times[name] = []
        for _ in range(repeat):
            t = time.perf_counter()
            sum(1 for _ in store.query(q, prefixes=PREFIXES))
            times[name].append(time.perf_counter() - t)
    return times, rows


def summary(times: dict[str, list[float]], rows: dict[str, int], repeat: int) -> dict:
    every = [x for v in times.values() for x in v]
    return {"queries": len(times), "runs_per_query": repeat, "p50_ms": ms(pct(every, 0.5)), "p95_ms": ms(pct(every, 0.95)),
            "per_query": {n: {"median_ms": ms(statistics.median(v)), "rows": rows[n]} for n, v in times.items()}}


def measure_virtuoso(docs: Path, triples: int, rows: dict[str, int], repeat: int, directory: Path, memory_gb: float,
                     dump: Path | None = None) -> tuple[dict, dict[str, list[float]] | None]:
    """The scale-out store: a private Virtuoso (:mod:`bench.virtuoso`) filled by budgetkg's own ingest
    through the SPARQL 1.1 Graph Store Protocol (as ``budgetkg --store URL ingest``) — or, given the
    embedded store's N-Quads ``dump``, by Virtuoso's bulk loader — then the same queries through the
    same store interface (HTTP and result parsing included). Returns the report and the seconds
    per query (None when Virtuoso did not run)."""
    from bench import virtuoso
    from ingest.pipeline import ingest_paths
    from ingest.remote import SparqlEndpointStore

    if not virtuoso.available():
        return {"skipped": "Virtuoso is not installed (apt-get install virtuoso-opensource)"}, None
    try:
        server = virtuoso.start(directory, memory_gb=memory_gb, allow_dirs=[dump.parent] if dump else [])
    except RuntimeError as exc:  # the embedded store's numbers still stand; say why these are missing
        return {"failed": f"Virtuoso did not start: {exc}"}, None
    try:
        store = SparqlEndpointStore(server.url, graph_store_url=server.graph_store_url)
        out: dict = {"store": server.version(), "memory_gb": memory_gb}
        t = time.perf_counter()
        if dump is None:
            outcomes = ingest_paths(store, [docs], bulk=True)
            secs = time.perf_counter() - t
            errors = [o for o in outcomes if o.status == "error"]
            out["ingest"] = {"seconds": round(secs, 2), "documents": len(outcomes), "errors": len(errors),
                             "docs_per_s": round(len(outcomes) / secs, 2), "mode": "one Graph Store PUT per document"}
            if errors:
                out["ingest"]["first_errors"] = [f"{Path(o.path).name}: {o.reason[:300]}" for o in errors[:3]]
        else:
            server.bulk_load(dump)
            out["ingest"] = {"seconds": round(time.perf_counter() - t, 2), "mode": "Virtuoso bulk loader, the embedded store's N-Quads"}
        out["triples"] = len(store)
        times, vrows = time_queries(store, repeat)
        out.update(summary(times, vrows, repeat))
        out["same_triples_as_embedded"] = out["triples"] == triples
        out["same_rows_as_embedded"] = vrows == rows
        out["server_peak_rss_mb"] = server.peak_rss_mb()
        return out, times
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


# -- the run -------------------------------------------------------------------------------------

def run(projects: int, seed: int = 0, repeat: int = 5, rdflib_budget: float = 20.0, rdflib_load_budget: float = 300.0,
        rdflib_max_triples: int = 3_000_000, keep: Path | None = None, bulk: bool = True, reuse: Path | None = None,
        scale_out: bool = True, scale_out_memory_gb: float = 4) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    import pyoxigraph as ox

    from index.build import build_index
    from index.embedder import Embedder, model_spec
    from ingest.pipeline import ingest_paths
    from ingest.store import OxigraphStore
    from ontology import sparql_prefixes

    t_start = time.perf_counter()
    result: dict = {"machine": {"cpus": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                                "python": platform.python_version(), "platform": platform.platform(terse=True)}}
    t = time.perf_counter()
    cdir, gen, cached = corpus(projects, seed)
    result["corpus"] = {"seed": seed, "cached": cached, "seconds": round(time.perf_counter() - t, 2), **gen}
    log(f"corpus: {gen['documents']} documents, {gen['projects']} projects ({'cached' if cached else 'generated'})")

    if reuse is not None:
        data = reuse
    else:
        data = Path(tempfile.mkdtemp(prefix="budgetkg-bench-")) if keep is None else keep
    if keep is not None and reuse is None:
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir(parents=True)
    try:
        # -- ingest -------------------------------------------------------------------------------
        if reuse is not None:
            # a data directory ingested by an earlier run (--keep) of the same corpus: everything
            # after the ingest is measured again (the index is rebuilt from its store)
            result["ingest"] = {"reused": str(reuse)}
            log(f"ingest: reusing the store in {reuse}")
        else:
            store = OxigraphStore(data / "store")
            t = time.perf_counter()
            outcomes = ingest_paths(store, [cdir / "docs"], bulk=bulk)
            secs = time.perf_counter() - t
            store.close()
            errors = [o for o in outcomes if o.status == "error"]
            result["ingest"] = {"seconds": round(secs, 2), "documents": len(outcomes), "errors": len(errors),
                                "docs_per_s": round(len(outcomes) / secs, 2), "projects_per_s": round(gen["projects"] / secs, 1),
                                "mode": "bulk: bulk loader for new documents, concept labels once at the end" if bulk
                                else "atomic: several documents per transactional update, labels per update"}
            if errors:
                result["ingest"]["first_errors"] = [f"{Path(o.path).name}: {o.reason}" for o in errors[:3]]
            log(f"ingest: {secs:.1f} s, {len(errors)} errors")
        store = OxigraphStore(data / "store", read_only=True)
        one = lambda q: int(next(iter(store.query(sparql_prefixes() + q)))["n"].value)
        result["scale"] = {
            "projects": one("SELECT (COUNT(*) AS ?n) WHERE { ?p a bkg:Project }"),
            "indicators": one("SELECT (COUNT(*) AS ?n) WHERE { ?i a bkg:PerformanceIndicator }"),
            "key_tasks": one("SELECT (COUNT(*) AS ?n) WHERE { ?k a bkg:KeyTask }"),
            "budget_lines": one("SELECT (COUNT(*) AS ?n) WHERE { ?l a bkg:BudgetLine }"),
            "documents": len(store.documents()),
            "triples": len(store),
        }

        # -- SPARQL on the store --------------------------------------------------------------------
        ox_times, rows = time_queries(store, repeat)
        result["sparql"] = {"store": f"embedded Oxigraph {ox.__version__}", **summary(ox_times, rows, repeat)}
        log(f"sparql: p50 {result['sparql']['p50_ms']} ms, p95 {result['sparql']['p95_ms']} ms")
        run_rdflib = not rdflib_max_triples or result["scale"]["triples"] <= rdflib_max_triples
        nq = data / "dump.nq"
        if run_rdflib or (scale_out and reuse is not None):
            store.ox.dump(str(nq), format=ox.RdfFormat.N_QUADS)
        v_times = None
        if scale_out:
            # a reused store is loaded from its dump with Virtuoso's bulk loader (ingesting 10^4
            # documents again would take longer than the rest of the run); a new one is ingested
            result["sparql"]["scale_out"], v_times = measure_virtuoso(cdir / "docs", result["scale"]["triples"], rows, repeat,
                                                             data / "virtuoso", scale_out_memory_gb,
                                                             dump=nq if reuse is not None else None)
            so = result["sparql"]["scale_out"]
            log(f"scale-out: {so.get('skipped') or so['failed']}" if "p50_ms" not in so else f"scale-out: {so['store']}, p50 {so['p50_ms']} ms")

        # -- the same queries on rdflib ---------------------------------------------------------------
        if run_rdflib:
            log(f"rdflib: loading {result['scale']['triples']} triples in a separate process")
            rb = rdflib_baseline(nq, QUERIES, rdflib_budget, rdflib_load_budget)
            for name, r in rb["queries"].items():
                if r["seconds"] is None:
                    r["timed_out"] = True
                else:
                    r["same_rows"] = r["rows"] == rows[name]
            result["sparql"]["rdflib"] = {"budget_seconds_per_query": rdflib_budget, "process": "separate (memory not in rss_mb)",
                                          "peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN), **rb}
            result["sparql"].update(speedups(rb["queries"], ox_times, rdflib_budget))
            if v_times is not None:
                result["sparql"]["scale_out"].update(speedups(rb["queries"], v_times, rdflib_budget))
            lower = result["sparql"].get("speedup_is_lower_bound")
            log(f"rdflib: speedup {result['sparql'].get('speedup_vs_rdflib')}{' (lower bound)' if lower else ''}")
        else:
            result["sparql"]["speedup_vs_rdflib"] = None
            result["sparql"]["rdflib"] = {"skipped": f"{result['scale']['triples']} triples > --rdflib-max-triples {rdflib_max_triples} "
                                                     f"(rdflib's in-memory store needs ~1.3 GB per million triples)"}

        nq.unlink(missing_ok=True)

        # -- index ----------------------------------------------------------------------------------
        t = time.perf_counter()
        embedder = Embedder(model_spec(), data)
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        stats = build_index(data, store, embedder=embedder, log=log)
        secs = time.perf_counter() - t
        result["index"] = {"seconds": round(secs, 2), "model_load_seconds": round(load_s, 2), "embed_seconds": stats.get("embed_seconds"),
                           "items": stats["items"], "texts_indexed": stats["passages"], "distinct_texts": stats["texts"],
                           "groups": stats.get("groups"), "lexical_documents": stats.get("lexical_documents"),
                           "unique_text_ratio": stats["unique_text_ratio"], "faiss": stats["faiss"],
                           "size_mb": round(sum(f.stat().st_size for f in (data / "index").rglob("*") if f.is_file()) / 2**20, 1)}
        log(f"index: {secs:.1f} s, {stats['texts']} distinct texts of {stats['passages']}")

        # -- search ---------------------------------------------------------------------------------
        result["search"] = measure_search(data, store, embedder, repeat=max(1, repeat // 2))
        store.close()
    finally:
        if keep is None and reuse is None:
            shutil.rmtree(data, ignore_errors=True)
    result["rss_mb"] = peak_rss_mb()
    result["total_seconds"] = round(time.perf_counter() - t_start, 1)
    return result


def measure_search(data: Path, store, embedder, repeat: int = 2) -> dict:

    from api.sparql import execute
    from index.search import SearchEngine

    t = time.perf_counter()
    engine = SearchEngine(data, embedder=embedder)
    out: dict = {"queries": len(SEARCHES), "engine_load_seconds": round(time.perf_counter() - t, 2)}
    engine.search("预热查询", top=10)  # warm-up: jieba, torch
    embed, total = [], []
    for _ in range(repeat):
        for q in SEARCHES:
            t = time.perf_counter()
            engine.embed_query(q)
            embed.append(time.perf_counter() - t)
            t = time.perf_counter()
            engine.search(q, top=10)
            total.append(time.perf_counter() - t)
    out.update({"p50_ms": ms(pct(total, 0.5)), "p95_ms": ms(pct(total, 0.95)), "query_embed_ms_p50": ms(pct(embed, 0.5)),
                "query_embed_ms_p95": ms(pct(embed, 0.95))})
    out["beyond_embed_p95_ms"] = ms(pct([a - b for a, b in zip(total, embed)], 0.95))
    # with a SPARQL filter, as the server and `search --batch` use one: the SELECT runs once per
    # filter and its IRIs are resolved to items once (both timed apart); searches reuse the result
    iri_sets, item_sets, f_ms, r_ms = [], [], [], []
    for fq in FILTERS:
        t = time.perf_counter()
        res = execute(store, fq)
        first = res.value.variables[0]
        iri_sets.append({r[first].value for r in res.value if r[first] is not None})
        f_ms.append(time.perf_counter() - t)
        t = time.perf_counter()
        item_sets.append(engine.item_set(iri_sets[-1]))
        r_ms.append(time.perf_counter() - t)
    filtered, f_embed, unresolved = [], [], []
    for rep in range(repeat):
        for n, q in enumerate(SEARCHES):
            t = time.perf_counter()
            engine.embed_query(q)
            f_embed.append(time.perf_counter() - t)
            t = time.perf_counter()
            engine.search(q, top=10, iris=item_sets[n % len(item_sets)])
            filtered.append(time.perf_counter() - t)
            if rep == 0:  # the IRI set itself, resolved inside the search (a one-off `search --sparql`)
                t = time.perf_counter()
                engine.search(q, top=10, iris=iri_sets[n % len(iri_sets)])
                unresolved.append(time.perf_counter() - t)
    out.update({"filtered_p50_ms": ms(pct(filtered, 0.5)), "filtered_p95_ms": ms(pct(filtered, 0.95)),
                "filtered_beyond_embed_p95_ms": ms(pct([a - b for a, b in zip(filtered, f_embed)], 0.95)),
                "filtered_unresolved_p95_ms": ms(pct(unresolved, 0.95)),
                "sparql_filter_ms_p50": ms(pct(f_ms, 0.5)), "filter_resolve_ms": [ms(x) for x in r_ms],
                "sparql_filter_sizes": [len(s) for s in iri_sets]})
    out["ann"] = measure_ann(engine)
    return out


def measure_ann(engine, k: int = 10) -> dict:
    """HNSW over the index's text vectors against exact search: recall@10 of the texts found (top 10
    at efSearch 256) and of the hybrid top 10 when dense ranking reads the approximate index (the
    nearest ``DENSE_DEPTH`` texts, then exact rescoring of the top groups) instead of exact dot products."""
    import faiss
    import numpy as np

    import index.rankers as S

    vectors = np.ascontiguousarray(np.asarray(engine.vectors), dtype=np.float32)
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(vectors)
    hnsw.hnsw.efSearch = 256
    build_s = time.perf_counter() - t
    qvs = np.stack([engine.embed_query(q) for q in SEARCHES]).astype(np.float32)
    exact = vectors @ qvs.T
    text_recall = []
    ann_ms = []
    for j in range(len(SEARCHES)):
        truth = set(np.argsort(-exact[:, j])[:k].tolist())
        t = time.perf_counter()
        _, i = hnsw.search(qvs[j : j + 1], k)
        ann_ms.append(time.perf_counter() - t)
        text_recall.append(len(truth & set(i[0].tolist())) / k)
    # the hybrid ranking with the approximate index (top DENSE_DEPTH texts) against exact
    from index.search import Filters

    exact_top = [[r["iri"] for r in engine.rank(q, Filters(), top=k, qv=qv)] for q, qv in zip(SEARCHES, qvs)]
    saved = (engine.data.faiss, S.EXACT_LIMIT)
    engine.data.faiss, S.EXACT_LIMIT = hnsw, 0
    try:
        rank_ms, item_recall = [], []
        for q, qv, truth in zip(SEARCHES, qvs, exact_top):
            t = time.perf_counter()
            got = [r["iri"] for r in engine.rank(q, Filters(), top=k, qv=qv)]
            rank_ms.append(time.perf_counter() - t)
            item_recall.append(len(set(truth) & set(got)) / max(1, len(truth)))
    finally:
        engine.data.faiss, S.EXACT_LIMIT = saved
    return {"index": f"HNSW32 efConstruction 80; efSearch max({S.HNSW_EF_SEARCH}, {S.HNSW_EF_FACTOR} × texts asked for)",
            "vectors": int(vectors.shape[0]), "build_seconds": round(build_s, 2),
            "text_recall_at_10": round(float(np.mean(text_recall)), 4), "hybrid_recall_at_10": round(float(np.mean(item_recall)), 4),
            "ann_search_ms_p50": ms(pct(ann_ms, 0.5)), "rank_with_ann_p95_ms": ms(pct(rank_ms, 0.95)),
            "dense_depth": S.DENSE_DEPTH}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print only the JSON object (last line)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per SPARQL query (search: half as many rounds)")
    ap.add_argument("--rdflib-budget", type=float, default=20.0, help="seconds per rdflib query before it is stopped")
    ap.add_argument("--rdflib-load-budget", type=float, default=300.0)
    ap.add_argument("--rdflib-max-triples", type=int, default=3_000_000, help="skip the rdflib comparison above this (0: always)")
    ap.add_argument("--keep", type=Path, help="build the data directory here and keep it (default: a temp dir, removed)")
    ap.add_argument("--reuse", type=Path, help="measure on a data directory an earlier --keep run of the same corpus ingested "
                                               "(skips the ingest; the index is rebuilt)")
    ap.add_argument("--bulk", action=argparse.BooleanOptionalAction, default=True,
                    help="ingest with the bulk loader (default; --no-bulk: transactional updates as `budgetkg ingest`)")
    ap.add_argument("--scale-out", action=argparse.BooleanOptionalAction, default=True,
                    help="also ingest into a private Virtuoso and run the SPARQL queries there (default when installed)")
    ap.add_argument("--scale-out-memory-gb", type=float, default=4, help="memory for Virtuoso's page buffers")
    args = ap.parse_args(argv)
    res = run(args.projects, args.seed, args.repeat, args.rdflib_budget, args.rdflib_load_budget, args.rdflib_max_triples,
              args.keep, args.bulk, args.reuse, args.scale_out, args.scale_out_memory_gb)
    if not args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
    print(json.dumps(res, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
