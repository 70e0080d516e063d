"""The ``budgetkg`` command line (also ``python -m api``).

Data directory: ``--data DIR``, else ``$BUDGETKG_DATA``, else ``./data``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="budgetkg: knowledge graph and semantic search over Chinese budget disclosures.")

DataOpt = typer.Option(None, "--data", help="data directory (default: $BUDGETKG_DATA or ./data)", show_default=False)


class State:
    data: Optional[Path] = None


def data_dir(option: Optional[Path]) -> Path:
    if option is not None:
        return option
    if State.data is not None:
        return State.data
    return Path(os.environ.get("BUDGETKG_DATA", "data"))


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"ERROR {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def main_options(data: Optional[Path] = DataOpt) -> None:
    State.data = data


def _open(data: Optional[Path], read_only: bool):
    from ingest.errors import StoreError
    from ingest.store import open_store

    try:
        return open_store(data_dir(data), read_only=read_only)
    except StoreError as exc:
        fail(str(exc), 2)


@app.command()
def ingest(paths: list[Path] = typer.Argument(..., help="files or folders (recursively)"),
           data: Optional[Path] = DataOpt,
           no_index: bool = typer.Option(False, "--no-index", help="do not update the search index")) -> None:
    """Parse documents and commit each atomically into its own named graph."""
    from tqdm import tqdm

    from ingest.pipeline import ingest_paths

    store = _open(data, read_only=False)
    failed = 0
    try:
        outcomes = ingest_paths(store, paths, progress=lambda files: tqdm(files, desc="ingest", unit="doc",
                                                                        file=sys.stderr, disable=None, leave=False))
    finally:
        store.close()
    for o in outcomes:
        if o.status == "error":
            failed += 1
            typer.echo(f"ERROR {o.path}: {o.reason}", err=True)
        else:
            parts = [f"{o.projects} projects", f"{o.indicators} indicators", f"{o.tasks} key tasks", f"{o.lines} budget lines"]
            typer.echo(f"{o.status:9} {o.path} ({', '.join(parts)})")
            for w in o.warnings:
                typer.echo(f"  note: {w}")
    if not no_index and any(o.status in ("added", "replaced") for o in outcomes) or (not no_index and _index_missing(data)):
        _update_index(data)
    raise typer.Exit(1 if failed else 0)


def _index_missing(data: Optional[Path]) -> bool:
    try:
        from index.build import index_is_current
    except ImportError:  # pragma: no cover - the index layer ships with the package
        return False
    return not index_is_current(data_dir(data))


def _update_index(data: Optional[Path]) -> None:
    from index.build import build_index

    store = _open(data, read_only=True)
    try:
        stats = build_index(data_dir(data), store, log=lambda m: typer.echo(m, err=True))
    finally:
        store.close()
    typer.echo(f"index: {stats}")


@app.command()
def sparql(query: str = typer.Argument(..., help="the query text, or @file"),
           fmt: str = typer.Option(None, "--format", help="json (default for SELECT/ASK), csv, tsv, xml; ttl (default for CONSTRUCT/DESCRIBE), nt, jsonld"),
           data: Optional[Path] = DataOpt) -> None:
    """Run a read-only SPARQL query over all documents."""
    from api.sparql import QueryInvalid, QueryRefused, execute, serialize

    if query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"{query[1:]}: cannot read query file ({exc.strerror})", 2)
    store = _open(data, read_only=True)
    try:
        result = execute(store, query)
        out, _ = serialize(result, fmt or ("json" if result.form in ("SELECT", "ASK") else "ttl"))
    except QueryRefused as exc:
        fail(f"query refused: {exc}", 2)
    except QueryInvalid as exc:
        fail(f"malformed query: {exc}", 2)
    finally:
        store.close()
    sys.stdout.buffer.write(out)
    if not out.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")


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


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
