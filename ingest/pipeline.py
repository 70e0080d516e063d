"""Ingest files or folders: each document is parsed fully, mapped, then committed in one
transaction. A document that fails is reported and leaves the store as it was; the others still
go in.

Reading is the slow part (a ruled-table PDF: ~0.1–0.4 s a page in pdfplumber), so documents are
read and mapped in worker processes (:func:`prepared`) while the main process commits what they
give, in file order: outcomes, and which of two versions of a document wins, do not depend on how
many workers there are. Writes stay in the main process, each document atomic.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IngestError, StoreError
from .mapping import Mapped, map_document
from .parse import parse_file
from .store import BATCH_TRIPLES, GraphStore

#: documents read ahead per worker: keeps the workers busy while the main process commits, and
#: bounds the parsed documents held in memory
READ_AHEAD = 2
#: what a mapping bug raises; it becomes this document's error, like a reader's (see parse.read_document)
_MAPPING_BUGS = (ValueError, IndexError, KeyError, AttributeError, TypeError, RecursionError)

SUFFIXES = {".txt", ".text", ".pdf"}


@dataclass
class Outcome:
    path: str
    status: str  # added | replaced | unchanged | skipped | error
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


TEXT_SUFFIXES = SUFFIXES - {".pdf"}


def extractions(files: list[Path]) -> tuple[list[Path], dict[Path, Path]]:
    """The files with each text file that has a PDF of the same name beside it (``x.txt`` and
    ``x.pdf``: pdftotext's output, typically) moved after that PDF, and text → PDF for those. Such a
    text is the PDF's extraction when both read as the same document: it is then skipped, so that the
    two do not replace each other at every ingest (which won depended on the order of the files)."""
    pdfs = {(f.parent, f.stem): f for f in files if f.suffix.lower() == ".pdf"}
    partner = {f: pdfs[(f.parent, f.stem)] for f in files
               if f.suffix.lower() in TEXT_SUFFIXES and (f.parent, f.stem) in pdfs}
    texts_of: dict[Path, list[Path]] = {}
    for t, pdf in partner.items():
        texts_of.setdefault(pdf, []).append(t)
    ordered = []
    for f in files:
        if f in partner:
            continue
        ordered.append(f)
        ordered.extend(texts_of.get(f, []))
    return ordered, partner


def _outcome(path: Path, doc, mapped, existed: bool, changed: bool) -> Outcome:
    status = "unchanged" if not changed else ("replaced" if existed else "added")
    return Outcome(
        str(path), status, graph=str(mapped.graph_iri),
        projects=len(doc.projects),
        indicators=sum(len(p.indicators) for p in doc.projects) + sum(len(d.indicators) for d in doc.department_targets),
        tasks=sum(len(d.tasks) for d in doc.department_targets),
        lines=sum(len(t.lines) for t in doc.budget_tables),
        warnings=doc.warnings,
    )


def ingest_file(store: GraphStore, path: Path, strict: bool = False) -> Outcome:
    try:
        doc = parse_file(path, strict=strict)
        mapped = map_document(doc)
        existed = store.fingerprint(mapped.graph_iri) is not None
        changed = store.commit(mapped)
    except IngestError as exc:
        return Outcome(str(path), "error", reason=exc.reason + (f" (line {exc.line})" if exc.line else ""))
    except StoreError as exc:
        return Outcome(str(path), "error", reason=str(exc))
    return _outcome(path, doc, mapped, existed, changed)


def default_workers() -> int:
    """Worker processes for reading: one per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def prepare(path: str, strict: bool = False) -> tuple[object, Mapped] | str:
    """Read and map one document (in a worker process): (document, its quads), or the reason it
    cannot be stored. Returns plain values: an exception with extra arguments does not cross a
    process boundary intact."""
    try:
        doc = parse_file(path, strict=strict)
    except IngestError as exc:
        return exc.reason + (f" (line {exc.line})" if exc.line else "")
    except MemoryError:
        # this document's alone: its memory is freed on the way out, the next document is read as usual
        return "ran out of memory reading it"
    try:
        return doc, map_document(doc)
    except _MAPPING_BUGS as exc:
        return f"cannot map the document to RDF ({exc.__class__.__name__}: {exc})"


def prepared(files: list[Path], strict: bool = False, workers: int | None = None) -> Iterator[tuple[Path, object]]:
    """(file, :func:`prepare`'s result) for every file, in file order. With more than one worker
    the files are read in worker processes, :data:`READ_AHEAD` per worker ahead of the consumer.
    A worker that dies breaks its pool: the files that pool still held are read again, each alone
    in a fresh process, so that only the file that kills its reader is reported (as its result)."""
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1 or len(files) < 2:
        for f in files:
            yield f, prepare(str(f), strict)
        return
    # spawn: a forked child would inherit the store's open database and its threads
    ctx = multiprocessing.get_context("spawn")
    todo = deque(files)
    suspects: set[Path] = set()
    while todo:
        alone = todo[0] in suspects
        with cf.ProcessPoolExecutor(max_workers=1 if alone else min(workers, len(todo)), mp_context=ctx,
                                    initializer=_ignore_interrupts) as pool:
            window: deque[tuple[Path, cf.Future]] = deque()
            # the consumer stopped (interrupted, or failed): the documents read ahead are not waited for
            stop = _Cancel(pool)
            while todo or window:
                while todo and len(window) < (1 if alone else workers * READ_AHEAD):
                    f = todo.popleft()
                    window.append((f, pool.submit(prepare, str(f), strict)))
                f, fut = window.popleft()
                try:
                    result = fut.result()
                except cf.process.BrokenProcessPool:
                    if alone:
                        yield f, "the worker process reading it died (out of memory, or a crash in a PDF library)"
                    else:
                        held = [f] + [g for g, _ in window]
                        suspects.update(held)
                        todo.extendleft(reversed(held))
                    break
                with stop:
                    yield f, result
                if alone:
                    break


def _ignore_interrupts() -> None:
    """In a reading worker: Ctrl-C (sent to the whole process group) is the main process's to handle;
    it stops the pool — a worker interrupted on its own would only print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Cancel:
    """Around a ``yield`` of :func:`prepared`: when the consumer closes the generator, the pool's
    queued documents are cancelled instead of read to the end by the pool's shutdown."""

    def __init__(self, pool: cf.ProcessPoolExecutor):
        self.pool = pool

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if kind is not None and issubclass(kind, GeneratorExit):
            self.pool.shutdown(wait=False, cancel_futures=True)
        return False


def ingest_paths(store: GraphStore, paths: Iterable[str | Path],
                 progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
                 batch_triples: int = BATCH_TRIPLES, bulk: bool = False, strict: bool = False,
                 workers: int | None = None) -> list[Outcome]:
    """Ingest files; documents are written several per update (up to ``batch_triples`` triples),
    each still all or nothing (see :meth:`GraphStore.commit_many`). ``bulk`` (loading many new
    documents) names the classification concepts once at the end instead of per update, and lets
    the embedded store write new documents with its bulk loader. ``strict`` refuses a document
    with a table that cannot be read instead of skipping that table. ``workers`` processes read
    the documents (default: one per CPU; 1 reads them in this process)."""
    defer_labels = bulk
    files, outcomes = collect(paths)
    files, partner = extractions(files)
    has_text = set(partner.values())
    graph_of: dict[Path, str] = {}  # PDF with a text beside it → its document graph
    spool = bulk and hasattr(store, "begin_bulk")
    if spool:
        store.begin_bulk()
    pending: list[tuple[Path, object, object]] = []
    slots: list[int] = []  # where each pending document's outcome goes: outcomes stay in file order
    size = 0
    codes: dict[str, set[tuple[str, str]]] = {}  # document graph → the codes it prints

    def flush() -> None:
        nonlocal pending, slots, size
        if not pending:
            return
        batch, where = pending, slots
        pending, slots, size = [], [], 0
        try:
            existed = store.fingerprints([m.graph_iri for _, _, m in batch])
            results = store.commit_many([m for _, _, m in batch], relabel=not defer_labels)
        except StoreError as exc:
            for (path, _, _), k in zip(batch, where):
                outcomes[k] = Outcome(str(path), "error", reason=str(exc))
            return
        for (path, doc, mapped), res, k in zip(batch, results, where):
            if isinstance(res, StoreError):
                outcomes[k] = Outcome(str(path), "error", reason=str(res))
            else:
                outcomes[k] = _outcome(path, doc, mapped, str(mapped.graph_iri) in existed, res)
                codes.setdefault(str(mapped.graph_iri), set()).update(mapped.code_names)

    try:
        ticks = iter(progress(files)) if progress else None
        for f, result in prepared(files, strict, workers):
            if ticks is not None:
                next(ticks, None)
            if isinstance(result, str):
                outcomes.append(Outcome(str(f), "error", reason=result))
                continue
            doc, mapped = result
            if f in partner and graph_of.get(partner[f]) == str(mapped.graph_iri):
                outcomes.append(Outcome(str(f), "skipped", graph=str(mapped.graph_iri),
                                        reason=f"text extraction of {partner[f].name}, the same document (the PDF is stored)"))
                continue
            if f in has_text:
                graph_of[f] = str(mapped.graph_iri)
            if any(m.graph_iri == mapped.graph_iri for _, _, m in pending):
                flush()  # a later version of the same document replaces the earlier one, in order
            pending.append((f, doc, mapped))
            slots.append(len(outcomes))
            outcomes.append(Outcome(str(f), "error", reason="not written"))  # replaced by flush()
            size += len(mapped.graph)
            if size >= batch_triples:
                flush()
        if ticks is not None:
            next(ticks, None)  # the progress bar's end
        flush()
    except KeyboardInterrupt:
        if spool:
            # interrupted: what is spooled is dropped, not loaded (that can take minutes); those
            # documents are not in the store and the next ingest writes them
            spool = False
            store.abort_bulk()
        raise
    finally:
        if spool:
            failed = set(store.end_bulk())
            for g in failed:
                codes.pop(g, None)
            for k, o in enumerate(outcomes):
                if o.graph in failed and o.status != "error":
                    outcomes[k] = Outcome(o.path, "error", graph=o.graph, reason="bulk loading failed, nothing was written")
    if defer_labels and codes:
        store.relabel(set().union(*codes.values()))
    return outcomes
