"""The ``budgetkg`` command line (also ``python -m api``).

Data directory: ``--data DIR``, else ``$BUDGETKG_DATA``, else ``./data``.

Start-up cost matters here: a command imports what it needs inside its function, so that commands
needing no model (``sparql``, ``check``, ``validate`` …) never import torch / transformers, and every
argument and file is checked before anything heavy loads. ``search`` / ``similar`` (and ``sparql``
with ``bkg:similarity``) ask a ``budgetkg serve`` running on the same data directory when there is
one (:mod:`api.discovery`), so they answer in about a second instead of loading the model.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="budgetkg: knowledge graph and semantic search over Chinese budget disclosures.")

DataOpt = typer.Option(None, "--data", help="data directory (default: $BUDGETKG_DATA or ./data)", show_default=False)


class State:
    data: Optional[Path] = None
    store: Optional[str] = None  # --store: passed to the store and the server, never written to os.environ


# -- the settings the CLI reads (environment and global options): here only, so that they stay in
#    one place when the app's settings come from the environment as well

def data_dir(option: Optional[Path]) -> Path:
    if option is not None:
        return option
    if State.data is not None:
        return State.data
    from api.settings import Settings

    return Settings.from_env().data_dir


def settings(data: Optional[Path], **options):
    """The settings of this run: the environment (:meth:`api.settings.Settings.from_env`), then the options."""
    from api.settings import Settings

    if State.store:
        options["store_url"] = State.store
    return Settings.from_env(data_dir=data_dir(data), **options)


def store_url() -> Optional[str]:
    """The remote store (``--store`` / ``$BUDGETKG_STORE``), None for the data directory's own."""
    return settings(None).store_url


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"ERROR {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def main_options(data: Optional[Path] = DataOpt,
                 store: Optional[str] = typer.Option(None, "--store", help="a remote SPARQL 1.1 query endpoint to use as the graph "
                                                     "store (default: $BUDGETKG_STORE, else the data directory's own)")) -> None:
    State.data = data
    State.store = store


def _open(data: Optional[Path], read_only: bool):
    from ingest.errors import StoreError
    from ingest.store import open_store

    d = data_dir(data)
    try:
        return open_store(d, read_only=read_only, remote=settings(data).remote_store())
    except StoreError as exc:
        if not read_only and not store_url() and _store_locked(d):
            fail(f"{d / 'store'}: {_holder(d)} holds this store; stop it (Ctrl-C where it runs) and run this again, "
                 "or use another --data directory", 2)
        fail(str(exc), 2)


@app.command()
def ingest(paths: list[Path] = typer.Argument(..., help="files or folders (recursively)"),
           data: Optional[Path] = DataOpt,
           no_index: bool = typer.Option(False, "--no-index", help="do not update the search index"),
           bulk: bool = typer.Option(False, "--bulk", help="many new documents: Oxigraph's bulk loader and code labels "
                                     "once at the end (~2x faster; an interrupted run is repaired by running it again)"),
           strict: bool = typer.Option(False, "--strict", help="refuse a document with any table that cannot be read "
                                       "(default: skip that table with a warning, keep the rest)"),
           workers: Optional[int] = typer.Option(None, "--workers", min=1, help="processes reading documents "
                                                 "(default: one per CPU; writing stays in one process, in file order)")) -> None:
    """Parse documents and commit each atomically into its own named graph."""
    from tqdm import tqdm

    from ingest.errors import StoreError, display_path
    from ingest.pipeline import ingest_paths

    store = _open(data, read_only=False)
    failed = 0
    outcomes = None
    try:
        outcomes = ingest_paths(store, paths, progress=lambda files: tqdm(files, desc="ingest", unit="doc",
                                                                        file=sys.stderr, disable=None, leave=False),
                                bulk=bulk, strict=strict, workers=workers)
    except KeyboardInterrupt:
        pass  # said below, once the store is closed
    finally:
        try:
            store.close()
            unclosed = None
        except StoreError as exc:  # e.g. the disk is full: said after what each document became
            unclosed = exc
    if outcomes is None:
        fail("interrupted: the documents written so far are stored whole; ingest again to write the others", 130)
    for o in outcomes:
        # a file name may hold bytes that are not UTF-8: print it with U+FFFD for them
        if o.status == "error":
            failed += 1
            typer.echo(f"ERROR {display_path(o.path)}: {o.reason}", err=True)
        elif o.status == "skipped":
            typer.echo(f"skipped   {display_path(o.path)}: {o.reason}")
        else:
            parts = [f"{o.projects} projects", f"{o.indicators} indicators", f"{o.tasks} key tasks", f"{o.lines} budget lines"]
            typer.echo(f"{o.status:9} {display_path(o.path)} ({', '.join(parts)})")
            for w in o.warnings:
                typer.echo(f"  note: {w}")
    if unclosed is not None:
        fail(str(unclosed), 2)
    if not no_index:
        # rebuilt when documents changed, and also when every document is unchanged but the index is
        # not of this store (an earlier ingest killed while building it, a --no-index run)
        _update_index(data, only_if_stale=not any(o.status in ("added", "replaced") for o in outcomes))
    raise typer.Exit(1 if failed else 0)


def _index_state(data: Optional[Path]):
    """How the data directory's index compares with its store (:class:`index.manifest.IndexState`)."""
    from index.manifest import index_state

    store = _open(data, read_only=True)
    try:
        return index_state(data_dir(data), store)
    finally:
        store.close()


def _update_index(data: Optional[Path], only_if_stale: bool = False) -> None:
    from index.build import build_index
    from index.manifest import index_state

    store = _open(data, read_only=True)
    try:
        if only_if_stale:
            state = index_state(data_dir(data), store)
            if state.fresh:
                return
            typer.echo(f"{state.describe()}: rebuilding it", err=True)
        stats = build_index(data_dir(data), store, log=lambda m: typer.echo(m, err=True))
    except (OSError, sqlite3.Error) as exc:
        # e.g. the disk is full: the new index was being built aside (index.tmp: its space is given
        # back), the previous one stays
        import shutil

        shutil.rmtree(data_dir(data) / "index.tmp", ignore_errors=True)
        fail(f"{data_dir(data) / 'index'}: could not write the search index ({exc}); the previous index, if any, is "
             f"kept as it was — free some space and run `budgetkg --data {data_dir(data)} reindex`", 2)
    finally:
        store.close()
    typer.echo(f"index: {stats}")


def _query_text(query: str) -> str:
    """QUERY as given, or the contents of @file."""
    if not query.startswith("@"):
        return query
    try:
        return Path(query[1:]).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{query[1:]}: cannot read query file ({exc.strerror})", 2)


def _run_query(data: Optional[Path], text: str, consume, info=None):
    """Check and run a read-only query and hand its (lazy) result to ``consume`` while the store is
    open — on a big stack, as the server's workers do, so that no nesting can crash the process.
    ``bkg:similarity(...)`` is evaluated as in the server's workers (:func:`api.sparql_pool.run_job`):
    a first pass collects the texts it compares, their vectors come from the index's embedding cache
    or, for what it lacks (the query texts at least), from the model loaded here."""
    info = info or _prepare(text)
    from api.sparql import QueryInvalid, QueryRefused, drain, execute, on_big_stack

    store = _open(data, read_only=True)

    def run():
        if not info.uses_similarity:
            return consume(execute(store, text, info=info))
        import pyoxigraph as ox

        from api.similarity import TextRecorder
        from api.sparql import SIMILARITY_IRI

        fn = ox.NamedNode(SIMILARITY_IRI)
        similarity = _local_similarity(data)  # on this thread: its SQLite cache belongs to the thread that opens it
        similarity.load_queries(info.similarity_texts)
        recorder = TextRecorder()
        drain(execute(store, text, custom_functions={fn: recorder}, info=info))
        similarity.prefetch(list(recorder.texts))
        return consume(execute(store, text, custom_functions={fn: similarity}, info=info))

    try:
        return on_big_stack(run)
    except QueryRefused as exc:
        fail(f"query refused: {exc}", 2)
    except QueryInvalid as exc:
        fail(f"malformed query: {exc}", 2)
    finally:
        store.close()


def _local_similarity(data: Optional[Path]):
    """``bkg:similarity`` for a query run in this process: cached passage vectors, the model (loaded
    on the first text the cache lacks) for the rest."""
    from api.similarity import Similarity, TextKind
    from index.build import expected_model_name
    from index.embedder import Embedder, EmbeddingCache, model_spec

    d = data_dir(data)
    loaded: list = []

    def ask(kind: TextKind, texts: list[str]):
        if not loaded:
            typer.echo("loading the model for bkg:similarity (a running `budgetkg serve` would answer at once)", err=True)
            loaded.append(Embedder(model_spec(), d))
        embedder = loaded[0]
        return list(embedder.queries(texts) if kind is TextKind.QUERY else embedder.passages(texts))

    return Similarity(EmbeddingCache(d / "embeddings.sqlite"), expected_model_name(), ask)


def _prepare(text: str):
    """What the query is (:func:`api.sparql.prepare`), or exit 2 saying why it cannot run."""
    from api.sparql import QueryInvalid, QueryRefused, on_big_stack, prepare

    try:
        return on_big_stack(lambda: prepare(text))
    except QueryRefused as exc:
        fail(f"query refused: {exc}", 2)
    except QueryInvalid as exc:
        fail(f"malformed query: {exc}", 2)


@app.command()
def sparql(query: str = typer.Argument(..., help="the query text, or @file"),
           fmt: str = typer.Option(None, "--format", help="json (default for SELECT/ASK), csv, tsv, xml; ttl (default for CONSTRUCT/DESCRIBE), nt, jsonld"),
           local: bool = typer.Option(False, "--local", help="bkg:similarity: load the model here even when a server runs"),
           data: Optional[Path] = DataOpt) -> None:
    """Run a read-only SPARQL query over all documents."""
    text = _query_text(query)
    info = _prepare(text)
    if info.uses_similarity and not local:
        server = _server(data)  # it has the model loaded
        if server is not None:
            out = _remote_sparql(server, text, fmt or ("json" if info.form in ("SELECT", "ASK") else "ttl"))
            if out is not None:
                _write_bytes(out)
                return
    from api.sparql import QueryInvalid, serialize

    def consume(result):
        try:
            return serialize(result, fmt or ("json" if result.form in ("SELECT", "ASK") else "ttl"))
        except QueryInvalid as exc:  # a format this form of query has not
            fail(str(exc), 2)

    out, _ = _run_query(data, text, consume, info)
    _write_bytes(out)


def _write_bytes(out: bytes) -> None:
    sys.stdout.buffer.write(out)
    if not out.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")


# -- a running server ---------------------------------------------------------------------------

def _server(data: Optional[Path]):
    """The ``budgetkg serve`` of this data directory and store that answers, or None."""
    from api.discovery import find_server

    return find_server(data_dir(data), store_url())


class ServerUnusable(Exception):
    """The server did not answer usefully: work locally instead."""


def _call_server(server, path: str, not_found: Optional[str] = None, **kwargs):
    """One request to the server (``params=`` GET, ``form=`` POST); a 4xx answer becomes a clear error
    (exit 2); no answer, a 5xx, or a limit of the HTTP API → ServerUnusable (the caller works locally)."""
    from api.discovery import call

    try:
        r = call(server.url + path, **kwargs)
    except OSError as exc:
        raise ServerUnusable(f"{server.url} stopped answering ({exc})") from exc
    if r.status == 404 and not_found:
        fail(not_found, 2)
    if r.status == 422:  # a limit of the HTTP API (e.g. --top above its maximum), not of the CLI
        raise ServerUnusable(f"{server.url} refused: {_error_detail(r)}")
    if 400 <= r.status < 500:
        fail(_error_detail(r), 2)
    if r.status >= 500:
        raise ServerUnusable(f"{server.url} answered {r.status}: {_error_detail(r)}")
    return r


def _error_detail(r) -> str:
    try:
        body = r.json()
        return f"{body.get('error')}: {body.get('detail')}"
    except (ValueError, AttributeError):
        return r.body[:500].decode("utf-8", "replace")


def _using(server) -> None:
    typer.echo(f"using the server at {server.url} (pid {server.pid}; --local to load the model here)", err=True)


def _falling_back(exc: ServerUnusable) -> None:
    typer.echo(f"note: {exc}; working without it", err=True)


def _remote_sparql(server, text: str, fmt: str) -> Optional[bytes]:
    """The query's result from the server's /sparql (None when the server cannot be used)."""
    _using(server)
    try:
        r = _call_server(server, "/sparql", form={"query": text, "format": fmt})
    except ServerUnusable as exc:
        _falling_back(exc)
        return None
    headers = {k.lower(): v for k, v in r.headers.items()}
    if headers.get("x-budgetkg-truncated") == "true":
        typer.echo(f"note: the server returns at most {headers.get('x-budgetkg-result-cap')} rows; this result was cut "
                   "(page with LIMIT/OFFSET, or use --local)", err=True)
    return r.body


@app.command()
def validate(data: Optional[Path] = DataOpt) -> None:
    """SHACL validation of the store; exit 1 with the report when it does not conform."""
    from ingest.validate import validate_store

    store = _open(data, read_only=True)
    try:
        report = validate_store(store)
    finally:
        store.close()
    if report.conforms:
        typer.echo("conforms: the store satisfies every SHACL shape")
        return
    typer.echo(report.text)
    raise typer.Exit(1)


@app.command()
def export(fmt: str = typer.Option("nq", "--format", help="ttl | nt | nq | trig | jsonld"),
           output: Optional[Path] = typer.Option(None, "--output", "-o", help="file to write (default stdout)"),
           data: Optional[Path] = DataOpt) -> None:
    """Export the whole graph (nq/trig keep one named graph per document)."""
    if fmt not in ("ttl", "nt", "nq", "trig", "jsonld"):
        fail(f"unknown format {fmt!r} (use ttl, nt, nq, trig or jsonld)", 2)
    store = _open(data, read_only=True)
    try:
        out = store.dump(fmt)
    finally:
        store.close()
    if output:
        output.write_bytes(out)
    else:
        sys.stdout.buffer.write(out)


@app.command()
def check(data: Optional[Path] = DataOpt,
          as_json: bool = typer.Option(False, "--json", help="findings as JSON")) -> None:
    """Consistency checks (勾稽): totals, 类 = Σ款, 款 = Σ项, summary tables, project amounts."""
    from ingest.checks import run_checks

    store = _open(data, read_only=True)
    try:
        findings = run_checks(store)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=1))
    else:
        docs: dict[str, list] = {}
        for f in findings:
            docs.setdefault(f.document, []).append(f)
        for doc, items in docs.items():
            bad = [f for f in items if not f.ok]
            typer.echo(f"{doc}: {len(items)} checks, {len(bad)} discrepancies")
            for f in items:
                typer.echo(f"  {'OK ' if f.ok else 'DIFF'} {f.describe()}")
    raise typer.Exit(0)


#: width of inspect's human output when it does not go to a terminal (rich would wrap at 80)
PIPE_WIDTH = 200
#: DIFF findings inspect lists in human output (all of them with --all, and always in --json)
DIFFS_SHOWN = 20


@app.command()
def inspect(file: Path = typer.Argument(..., help="a document (.pdf, or text: .txt …)"),
            as_json: bool = typer.Option(False, "--json", help="the report as one JSON object (shape below)"),
            text: bool = typer.Option(False, "--text", help="print the extracted lines with their numbers and pages "
                                      "(the line numbers every message refers to); with --json, add them as \"text\""),
            all_checks: bool = typer.Option(False, "--all", help="list every 勾稽 check, not only the first DIFFs"),
            strict: bool = typer.Option(False, "--strict", help="read as `ingest --strict` would")) -> None:
    """What budgetkg finds in a document, without touching the store: kind, unit, region, year,
    pages, money units, every table (kind, title and number as printed, stage, pages/lines, status,
    rows read, why skipped), counts, the 勾稽 checks and why the document would be refused.
    Exit status 0 when ingest would store it, 1 when it would refuse it, 2 when FILE is missing.

    \b
    --json prints one object (version 1; unknown values null; amounts in 元 as
    decimal strings):
      version, file, sha256, encoding, pages, lines, kind, stage, title, unit,
      region: \\[{name, level, adcode}], year, money_units: \\[str],
      stored: bool, refusal, refusal_line,
      tables: \\[{kind, kind_label, title, number, stage, pages: \\[a, b],
               lines: \\[a, b], status: read|empty|skipped|not-read, rows, reason}],
      counts: {tables_read, tables_empty, tables_skipped, tables_not_read,
               projects, projects_with_indicators, indicators, key_tasks,
               budget_lines, key_project_entries, project_list_entries,
               self_evaluations},
      checks: {total, ok, diff, findings: \\[{document, check, subject, ok,
               expected, actual, diff, tolerance, lines}]},
      warnings: \\[str]
      and with --text, text: \\[{no, page, grid, cells}].
    """
    from ingest.inspection import inspect_file

    if not file.is_file():
        fail(f"{file}: no such file", 2)
    report, lines = inspect_file(file, strict=strict)
    if as_json:
        if text:
            report["text"] = [{"no": ln.no, "page": ln.page, "grid": ln.grid, "cells": list(ln.cells)} for ln in lines]
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
    elif text:
        _print_lines(lines)
    else:
        _print_report(report, all_checks)
    raise typer.Exit(0 if report["stored"] else 1)


def _console():
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH)
    return console


def _print_lines(lines) -> None:
    """Each extracted line: number, page, grid (ruled PDF table) and cells separated by │."""
    out = sys.stdout
    for ln in lines:
        page = f"p{ln.page}" if ln.page is not None else ""
        grid = f"#{ln.grid}" if ln.grid is not None else ""
        body = " │ ".join(ln.cells) if ln.grid is not None else ln.raw
        out.write(f"{ln.no:>6} {page:>5} {grid:>4}  {body}\n")


def _print_report(r: dict, all_checks: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = _console()
    verdict = "[green]would be stored[/]" if r["stored"] else f"[red]would be refused[/]: {escape(r['refusal'] or '')}"
    if r.get("refusal_line"):
        verdict += f" (line {r['refusal_line']})"
    con.print(f"[bold]{escape(r['file'])}[/]: {verdict}")
    region = " › ".join(x["name"] for x in r["region"]) or None
    facts = [("kind", r["kind"]), ("stage", r["stage"]), ("unit", r["unit"]), ("region", region), ("year", r["year"]),
             ("pages", r["pages"]), ("lines", r["lines"]), ("money units", "/".join(r["money_units"]) or None)]
    if any(v is not None for _, v in facts):
        con.print("  " + " · ".join(f"{k} [bold]{escape(str(v))}[/]" for k, v in facts if v is not None))
    if r["title"]:
        con.print(f"  title: {escape(r['title'])}")
    if r["tables"]:
        con.print(_tables_table(r["tables"], Table, escape))
    c = r["counts"]
    con.print(f"found: {c['projects']} projects ({c['projects_with_indicators']} with indicators), {c['indicators']} indicators, "
              f"{c['key_tasks']} key tasks, {c['budget_lines']} budget lines, {c['key_project_entries']} 重点项目 entries, "
              f"{c['project_list_entries']} 项目支出表 entries, {c['self_evaluations']} 自评表; "
              f"tables: {c['tables_read']} read, {c['tables_empty']} empty, {c['tables_skipped']} skipped, "
              f"{c['tables_not_read']} not read")
    _print_checks(con, r["checks"], all_checks, escape)
    for w in r["warnings"]:
        con.print(f"  note: {escape(w)}")


def _tables_table(tables: list[dict], Table, escape):
    t = Table(title="tables", title_justify="left", show_lines=False, pad_edge=False)
    for col in ("kind", "no.", "title as printed", "stage", "pages", "lines", "status", "rows", "why"):
        t.add_column(col, overflow="fold")
    colour = {"read": "green", "empty": "yellow", "skipped": "red", "not-read": "dim"}
    for x in tables:
        pages = "" if not x["pages"] else (str(x["pages"][0]) if x["pages"][0] == x["pages"][1] else f"{x['pages'][0]}–{x['pages'][1]}")
        t.add_row(escape(x["kind_label"]), escape(x["number"] or ""), escape(x["title"] or "—"), x["stage"], pages,
                  f"{x['lines'][0]}–{x['lines'][1]}", f"[{colour.get(x['status'], '')}]{x['status']}[/]", str(x["rows"]),
                  escape(x["reason"] or ""))
    return t


def _print_checks(con, checks: dict, all_checks: bool, escape) -> None:
    from decimal import Decimal

    if not checks["total"]:
        con.print("勾稽: no check to run (no table total, 类/款/项 hierarchy, summary or project list to compare)")
        return
    share = 100 * checks["ok"] / checks["total"]
    con.print(f"勾稽: {checks['total']} checks, [green]{checks['ok']} OK[/], "
              f"[{'red' if checks['diff'] else 'green'}]{checks['diff']} DIFF[/] ({share:.1f}% OK)")
    shown = checks["findings"] if all_checks else [f for f in checks["findings"] if not f["ok"]][:DIFFS_SHOWN]
    for f in shown:
        lines = f" (lines {', '.join(map(str, f['lines']))})" if f["lines"] else ""
        diff = "" if f["ok"] else f", differs by {Decimal(f['diff']):,.2f} 元"
        con.print(f"  {'OK  ' if f['ok'] else '[red]DIFF[/]'} {escape(f['check'])}: {escape(f['subject'])}: computed "
                  f"{Decimal(f['actual']):,.2f} 元 vs printed {Decimal(f['expected']):,.2f} 元{diff}{lines}")
    hidden = checks["diff"] - len([f for f in shown if not f["ok"]])
    if hidden > 0:
        con.print(f"  … {hidden} more DIFF (--all lists every check)")


def _engine(data: Optional[Path]):
    """The index, loaded without the model: ``similar`` needs none, ``search`` loads it on the first
    question (so that a missing or stale index is said before ~30 s of model loading)."""
    from index.search import IndexUnavailable, SearchEngine

    d = data_dir(data)
    try:
        return SearchEngine(d, load_model=False)
    except IndexUnavailable as exc:
        fail(str(exc), 2)


def _sparql_iris(data: Optional[Path], query: Optional[str]) -> Optional[set[str]]:
    """IRIs bound by the first variable of a SELECT (the candidates to rank); ``query`` is the text."""
    if not query:
        return None

    def first_column(result) -> set[str]:
        if result.form != "SELECT":
            fail("--sparql needs a SELECT query whose first variable binds the IRIs to search among", 2)
        first = result.value.variables[0]
        return {row[first].value for row in result.value if row[first] is not None}

    return _run_query(data, query, first_column)


def _print_results(results: list[dict]) -> None:
    if not results:
        typer.echo("（没有结果）no results")
    for n, r in enumerate(results, start=1):
        amount = f"{float(r['amount']):,.2f} 元" if r.get("amount") is not None else "—"
        where = " ".join(str(x) for x in (r.get("town"), r.get("year")) if x)
        parent = f" ← {r['project']['name']}" if r.get("project") else ""
        typer.echo(f"{n:2}. [{r['kind']}] {r['name']}{parent}")
        typer.echo(f"    {where} · {r.get('unit') or ''} · {amount} · score {r['score']:.4f}")
        if r.get("reason"):
            typer.echo(f"    why: {r['reason']['summary']}")
        typer.echo(f"    {r['iri']}")


@app.command()
def search(text: str = typer.Argument("", help="the question, in Chinese"),
           kind: Optional[str] = typer.Option(None, "--kind", help="project | indicator | task | line | all (default all)"),
           town: Optional[str] = typer.Option(None, "--town", help="region name, e.g. 清溪 / 清溪镇 / 东莞"),
           year: Optional[int] = typer.Option(None, "--year"),
           top: int = typer.Option(10, "--top", min=1, max=1000),
           sparql_filter: Optional[str] = typer.Option(None, "--sparql", help="SELECT whose first variable binds the IRIs to search among (text or @file)"),
           as_json: bool = typer.Option(False, "--json", help="a JSON array of result objects"),
           batch: Optional[Path] = typer.Option(None, "--batch", help="file with one query per line; prints JSON Lines"),
           no_parse: bool = typer.Option(False, "--no-parse", help="do not read filters (place, year, amount …) from the words"),
           explain: bool = typer.Option(False, "--explain", help="print how the question was understood"),
           local: bool = typer.Option(False, "--local", help="load the index and model here even when a server runs"),
           data: Optional[Path] = DataOpt) -> None:
    """Hybrid semantic + lexical search over projects, indicators and key tasks. Uses a `budgetkg
    serve` running on the same data directory when there is one (about a second), else loads the model
    here once (half a minute)."""
    if kind is not None and kind not in ("project", "indicator", "task", "line", "all"):
        fail(f"--kind must be project, indicator, task, line or all (got {kind!r})", 2)
    # everything given is read and checked before anything heavy loads
    questions = _batch_questions(batch) if batch is not None else [text]
    sparql_text = _query_text(sparql_filter) if sparql_filter else None
    options = dict(kind=kind, town=town, year=year, top=top, parse=not no_parse)
    server = None if local else _server(data)
    if server is not None:
        _using(server)
        try:
            _search_remote(server, questions, sparql_text, options, batch is not None, as_json, explain)
            return
        except ServerUnusable as exc:
            _falling_back(exc)
    iris = _sparql_iris(data, sparql_text)
    engine = _engine(data)
    if iris is not None:
        iris = engine.item_set(iris)  # resolved once for every question of a batch
    for q in questions:
        _show_search(q, engine.search(q, iris=iris, **options), batch is not None, as_json, explain)


def _batch_questions(batch: Path) -> list[str]:
    try:
        return [ln.strip() for ln in batch.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as exc:
        fail(f"{batch}: cannot read ({exc.strerror})", 2)
    except UnicodeDecodeError as exc:
        fail(f"{batch}: not UTF-8 text ({exc.reason} at byte {exc.start})", 2)


def _search_remote(server, questions: list[str], sparql_text: Optional[str], options: dict, batch: bool,
                   as_json: bool, explain: bool) -> None:
    """Each question through the server's /api/search (which keeps a ``--sparql`` filter resolved
    between questions)."""
    params = {k: v for k, v in options.items() if v is not None and k != "parse"}
    if not options["parse"]:
        params["parse"] = "false"
    if sparql_text:
        params["sparql"] = sparql_text
    for n, q in enumerate(questions):
        try:
            res = _call_server(server, "/api/search", params={"q": q, **params}).json()
        except ServerUnusable as exc:
            if n:  # answers were printed already: going on locally would mix two sources mid-batch
                fail(f"{exc} after {n} questions", 1)
            raise
        _show_search(q, res, batch, as_json, explain)


def _show_search(question: str, res: dict, batch: bool, as_json: bool, explain: bool) -> None:
    if batch:
        line = {"query": question, "results": res["results"]}
        if "interpretation" in res:
            line["interpretation"] = res["interpretation"]
        typer.echo(json.dumps(line, ensure_ascii=False))
        return
    if explain and "interpretation" in res:
        typer.echo(json.dumps(res["interpretation"], ensure_ascii=False, indent=1), err=as_json)
    if as_json:
        typer.echo(json.dumps(res["results"], ensure_ascii=False, indent=1))
    else:
        _print_results(res["results"])


@app.command()
def similar(iri: str = typer.Argument(..., help="IRI of a project (or indicator / key task)"),
            other_towns: bool = typer.Option(False, "--other-towns", help="only items of other regions"),
            top: int = typer.Option(10, "--top", min=1, max=1000),
            as_json: bool = typer.Option(False, "--json"),
            local: bool = typer.Option(False, "--local", help="load the index here even when a server runs"),
            data: Optional[Path] = DataOpt) -> None:
    """Comparable items: the same kind of spending elsewhere, with the reason."""
    results = None
    server = None if local else _server(data)
    if server is not None:
        _using(server)
        try:
            params = {"iri": iri, "top": top, **({"other_towns": "true"} if other_towns else {})}
            r = _call_server(server, "/api/similar", params=params, not_found=f"{iri}: not a project, indicator or key task of this data directory")
            results = r.json()["results"]
        except ServerUnusable as exc:
            _falling_back(exc)
    if results is None:
        engine = _engine(data)
        try:
            results = engine.similar(iri, other_towns=other_towns, top=top)
        except KeyError:
            fail(f"{iri}: not a project, indicator or key task of this data directory", 2)
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        _print_results(results)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
          port: int = typer.Option(8000, "--port", min=0, max=65535),
          sparql_timeout: float = typer.Option(30.0, "--sparql-timeout", min=0.1, help="seconds a /sparql query may run"),
          result_cap: int = typer.Option(10_000, "--result-cap", min=1, help="rows (or triples) /sparql returns at most"),
          sparql_workers: int = typer.Option(2, "--sparql-workers", min=1, envvar="BUDGETKG_SPARQL_WORKERS",
                                             help="worker processes answering /sparql"),
          sparql_memory: int = typer.Option(2048, "--sparql-memory", min=0, envvar="BUDGETKG_SPARQL_MEMORY",
                                            help="MiB of resident memory a /sparql worker may use (0: no limit); a query over it gets 503"),
          cors_origins: str = typer.Option("*", "--cors-origins", envvar="BUDGETKG_CORS_ORIGINS",
                                           help="comma-separated origins whose scripts may read the API ('*': any; '': none)"),
          data: Optional[Path] = DataOpt) -> None:
    """Serve the SPARQL endpoint, the search API and the web pages (FastAPI + uvicorn). While it
    runs, `search` / `similar` on the same data directory ask it instead of loading the model."""
    d = data_dir(data)
    remote = store_url()
    if not remote and not (d / "store").exists():
        fail(f"{d}: no store here yet (run `budgetkg --data {d} ingest PATH...` first)", 2)
    if not remote and _store_locked(d):
        fail(f"{d / 'store'}: {_holder(d)} holds this store; stop it, or serve another --data directory", 2)
    sock = _listen(host, port)  # taken now: a port in use is one line here, not a traceback later
    # a stale index is refused, not rebuilt here: the server only reads, and a rebuild (embedding every
    # new text) can take minutes behind a server that would seem to hang; ingest and reindex repair it
    state = _index_state(data)
    if not state.fresh:
        fail(f"{d}: {state.describe()}; run `budgetkg --data {d} reindex` (or ingest again)", 2)
    import uvicorn

    from api.app import create_app
    from api.discovery import announce, client_url, withdraw

    url = client_url(host, sock.getsockname()[1])

    class AnnouncingServer(uvicorn.Server):
        """Writes <data>/server.json once it answers requests (not before: a client would wait) and
        removes it as it begins to shut down (uvicorn re-raises SIGTERM after serving, which would end
        the process before code after ``run()`` could clean up)."""

        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started:
                announce(d, url, remote)
                typer.echo(f"budgetkg: serving {d} at {url} (Ctrl-C stops it)", err=True)

        async def shutdown(self, sockets=None):
            withdraw(d)
            await super().shutdown(sockets)

    # the store, the index and the model load once, in the app's start-up
    config = settings(data, sparql_timeout=sparql_timeout, result_cap=result_cap, sparql_workers=sparql_workers,
                      sparql_memory_mb=sparql_memory or None,
                      cors_origins=tuple(o.strip() for o in cors_origins.split(",") if o.strip()))
    server = AnnouncingServer(uvicorn.Config(create_app(config), host=host, port=port, log_level="info"))
    try:
        server.run(sockets=[sock])
    finally:
        withdraw(d)
        sock.close()


def _store_locked(d: Path) -> bool:
    """Whether another process holds the embedded store's lock (RocksDB's fcntl lock on store/LOCK),
    tested without opening the store."""
    import fcntl

    try:
        fd = os.open(d / "store" / "LOCK", os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return False  # unreadable here: opening the store will say why
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # EAGAIN / EACCES: held by another process
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _holder(d: Path) -> str:
    """Who holds the store: the announced server when there is one."""
    from api.discovery import pid_alive, read

    info = read(d)
    if info is not None and pid_alive(info.pid):
        return f"`budgetkg serve` (pid {info.pid}, {info.url})"
    return "another process (`budgetkg serve`, `make run` or an ingest)"


def _listen(host: str, port: int):
    """A socket bound to host:port (port 0: a free one), for uvicorn to serve on."""
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        fail(f"--host {host}: {exc.strerror}", 2)
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart while old connections linger
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        fail(f"{host}:{port}: cannot listen there ({exc.strerror})", 2)
    return sock


@app.command()
def reindex(data: Optional[Path] = DataOpt) -> None:
    """Rebuild the search index (e.g. after choosing another model with BUDGETKG_MODEL)."""
    _update_index(data)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
