"""Ingest files or folders: each document is parsed fully, mapped, then committed in one
transaction. A document that fails is reported and leaves the store as it was; the others still
go in."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IngestError, StoreError
from .mapping import map_document
from .parse import parse_file
from .store import GraphStore

SUFFIXES = {".txt", ".text", ".pdf"}


@dataclass
class Outcome:
    path: str
    status: str  # added | replaced | unchanged | error
    graph: str | None = None
    reason: str | None = None
    projects: int = 0
    indicators: int = 0
    tasks: int = 0
    lines: int = 0
    warnings: list[str] = field(default_factory=list)


def collect(paths: Iterable[str | Path]) -> tuple[list[Path], list[Outcome]]:
    """Files to ingest (folders recursively, sorted), and outcomes for paths that do not exist."""
    files: list[Path] = []
    missing: list[Outcome] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(Outcome(str(p), "error", reason="no such file or directory"))
    return files, missing


def ingest_file(store: GraphStore, path: Path) -> Outcome:
    try:
        doc = parse_file(path)
        mapped = map_document(doc)
        existed = store.fingerprint(mapped.graph_iri) is not None
        changed = store.commit(mapped)
    except IngestError as exc:
        return Outcome(str(path), "error", reason=exc.reason + (f" (line {exc.line})" if exc.line else ""))
    except StoreError as exc:
        return Outcome(str(path), "error", reason=str(exc))
    status = "unchanged" if not changed else ("replaced" if existed else "added")
    return Outcome(
        str(path), status, graph=str(mapped.graph_iri),
        projects=len(doc.projects),
        indicators=sum(len(p.indicators) for p in doc.projects) + sum(len(d.indicators) for d in doc.department_targets),
        tasks=sum(len(d.tasks) for d in doc.department_targets),
        lines=sum(len(t.lines) for t in doc.budget_tables),
        warnings=doc.warnings,
    )


def ingest_paths(store: GraphStore, paths: Iterable[str | Path],
                 progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None) -> list[Outcome]:
    files, outcomes = collect(paths)
    for f in (progress(files) if progress else files):
        outcomes.append(ingest_file(store, f))
    return outcomes
