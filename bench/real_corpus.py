#!/usr/bin/env python
"""How well budgetkg reads a folder of real disclosures (default ``../shared/corpus/bulk``).

    python bench/real_corpus.py [FOLDER] [--json] [--workers N] [--tree DIR] [--timeout S]

Every file is parsed (read → tables → records → RDF mapping, as ``budgetkg ingest`` does before
writing) in worker processes; one file failing in any way — an exception, a worker that dies, a
file that takes longer than ``--timeout`` — is a line saying so, never a traceback that stops the
run. Per file: read / refused and why, tables read by kind, projects, projects with indicators,
indicators, key tasks, budget lines, the 勾稽 checks (:mod:`ingest.consistency`) OK / DIFF, pages,
seconds. Then totals: files with a text layer, read (of those), refused by reason, failures, the
share of 勾稽 checks OK, the share of read files with every check OK, PDF pages per second (per
worker: pages / seconds spent reading, over the PDFs that were read whole; and wall clock over all
files and workers), and the files that print a project performance-target table but gave no
project with indicators.

What the files hold is probed apart from the parser under test, with PDFium (``pypdfium2``, the
renderer pdfplumber ships with): the page count, whether there is a text layer (at least
:data:`TEXT_LAYER_CJK` Chinese characters), and whether a project target table is printed
(:data:`TARGET_TITLE` and :data:`LEVEL_HEADER` words in the text).

``--tree DIR`` measures the parser of another source tree instead of this one — the "before" of a
change, e.g. ``git worktree add /tmp/wt-540 540fbbc`` then ``--tree /tmp/wt-540``. Its ``parse_file``
may raise on refusal (as 540fbbc's does) and its records need not know table kinds; the 勾稽 rules
applied are always this tree's (:mod:`ingest.consistency`, loaded into the other tree's package),
so that both runs are measured by the same rules. ``--baseline DIR`` measures both at once: this
tree's parser and DIR's, each in its own worker pool (half of ``--workers`` each), so that both
see the same machine load and the ratio of their reading speeds is fair; the report gives both
and what changed.

``--ingest`` measures ``budgetkg ingest --no-index`` of the folder instead (this tree's
:func:`ingest.pipeline.ingest_paths`) into fresh data directories, first reading in this process
(``workers=1``, as ingest did before it read in worker processes) and then with ``--workers``
processes, in the same process one after the other; it reports both times (wall clock and CPU of
the process and its workers: on a shared machine the wall clock says how much CPU was to be had),
their ratio, and whether the two stores hold the same quads.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import shutil
import tempfile
import contextlib
import json
import multiprocessing
import os
import re
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "bulk"
SUFFIXES = {".pdf", ".txt", ".text"}
#: a PDF with fewer Chinese characters than this in its text layer is a scan (or not a disclosure)
TEXT_LAYER_CJK = 20
#: a project performance-target table: its title words and its indicator-level header words
TARGET_TITLE = re.compile(r"项目.{0,8}绩效目标|绩效目标.{0,4}(申报|审批|审核)表")
LEVEL_HEADER = re.compile(r"一级指标|二级指标|三级指标")
DEFAULT_TIMEOUT = 600
#: how many DIFF findings of a file the JSON keeps
DIFFS_KEPT = 20
_CJK = re.compile(r"[\u4e00-\u9fff]")


# -- in the worker --------------------------------------------------------------------------------
def _init_worker(tree: str) -> None:
    """Import the parser of ``tree`` in this worker (the main process imports none)."""
    sys.path.insert(0, tree)
    if tree != str(ROOT):
        # this tree's 勾稽 rules, as a module of the other tree's package (its relative imports —
        # .text.key, .key_projects.link — resolve there)
        import importlib.util

        import ingest

        spec = importlib.util.spec_from_file_location("ingest.consistency", ROOT / "ingest" / "consistency.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules["ingest.consistency"] = mod
        spec.loader.exec_module(mod)
        ingest.consistency = mod


def probe(path: Path) -> dict:
    """Pages, text layer and whether a project target table is printed, read with PDFium."""
    if path.suffix.lower() != ".pdf":
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return {"pages": None, "text_layer": False, "prints_target_table": False, "probe_error": str(exc)}
        return {"pages": None, "text_layer": len(_CJK.findall(text)) >= TEXT_LAYER_CJK,
                "prints_target_table": _prints_target_table(text)}
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
        try:
            parts = []
            for i in range(len(pdf)):
                page = pdf[i]
                tp = page.get_textpage()
                parts.append(tp.get_text_range())
                tp.close()
                page.close()
            pages = len(pdf)
        finally:
            pdf.close()
    except pdfium.PdfiumError as exc:
        return {"pages": None, "text_layer": False, "prints_target_table": False, "probe_error": f"PDFium: {exc}"}
    text = "".join(parts)
    return {"pages": pages, "text_layer": len(_CJK.findall(text)) >= TEXT_LAYER_CJK,
            "prints_target_table": _prints_target_table(text)}


def _prints_target_table(text: str) -> bool:
    t = re.sub(r"\s+", "", text)
    return bool(TARGET_TITLE.search(t) and LEVEL_HEADER.search(t))


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: int):
    """Interrupt the file after ``seconds`` (the parsers are pure Python: SIGALRM reaches them)."""

    def fire(signum, frame):
        raise _Timeout(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def measure(path: str, timeout: int = DEFAULT_TIMEOUT) -> dict:
    """Everything about one file. Per-file isolation: whatever goes wrong is this file's result."""
    p = Path(path)
    out: dict = {"file": p.name, "status": "failed", "reason": None}
    try:
        out.update(probe(p))
    except Exception as exc:  # noqa: BLE001 - a benchmark isolates each file; the failure is reported
        out["probe_error"] = _last_line(exc)
    t0 = time.perf_counter()
    try:
        with _deadline(timeout):
            out.update(_parse(p))
    except _Timeout as exc:
        out.update(status="failed", reason=f"timeout: {exc}")
    except Exception as exc:  # noqa: BLE001 - a benchmark isolates each file; the failure is reported
        out.update(status="failed", reason=f"traceback: {_last_line(exc)}")
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def _last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _parse(p: Path) -> dict:
    from ingest.errors import IngestError
    from ingest.mapping import map_document
    from ingest.text import read_source

    t0 = time.perf_counter()
    try:
        src = read_source(p)
    except IngestError as exc:
        return {"status": "refused", "reason": _reason(exc), "read_seconds": round(time.perf_counter() - t0, 3)}
    t_read = time.perf_counter() - t0
    try:
        doc, refusal = _document(src)
    except IngestError as exc:
        return {"status": "refused", "reason": _reason(exc), "read_seconds": round(t_read, 3)}
    out = _counts(doc)
    out["read_seconds"] = round(t_read, 3)
    if refusal:
        out.update(status="refused", reason=refusal)
        return out
    map_document(doc)  # what ingest does next: a mapping failure is this file's failure too
    from ingest.consistency import check_document

    findings = check_document(doc)
    diffs = [f for f in findings if not f.ok]
    out.update(status="read", checks=len(findings), checks_ok=len(findings) - len(diffs), checks_diff=len(diffs),
               diffs=[f.describe() for f in diffs[:DIFFS_KEPT]], unit=doc.unit_name, year=doc.year)
    return out


def _document(src):
    """The parsed document and why it would be refused (None when it would be stored): this tree's
    ``read_document`` keeps a refused document; an older ``parse_source`` raises instead."""
    import ingest.parse as parse

    if hasattr(parse, "read_document"):
        doc = parse.read_document(src)
        return doc, doc.refusal
    return parse.parse_source(src), None


def _reason(exc) -> str:
    return exc.reason + (f" (line {exc.line})" if getattr(exc, "line", None) else "")


def _counts(doc) -> dict:
    tables = Counter()
    if hasattr(doc, "tables"):
        for t in doc.tables:
            if t.status == "read":
                tables[t.kind_label] += 1
    else:  # an older parser: no table reports
        tables["预算表"] = len(doc.budget_tables)
        tables["项目绩效目标表"] = len(doc.projects)
        tables["部门整体支出绩效目标表"] = len(doc.department_targets)
    return {
        "tables": {k: v for k, v in sorted(tables.items()) if v},
        "projects": len(doc.projects),
        "projects_with_indicators": sum(1 for p in doc.projects if p.indicators),
        "indicators": sum(len(p.indicators) for p in doc.projects) + sum(len(d.indicators) for d in doc.department_targets),
        "key_tasks": sum(len(d.tasks) for d in doc.department_targets),
        "budget_lines": sum(len(t.lines) for t in doc.budget_tables),
        "project_list_entries": len(getattr(doc, "project_budgets", [])),
        "skipped_tables": len([t for t in getattr(doc, "tables", []) if t.status == "skipped"]),
        # what was not read, by kind: tables skipped (with why), tables no reader exists for, empty tables
        "skipped_reasons": [f"{t.kind_label}: {t.reason}" for t in getattr(doc, "tables", []) if t.status == "skipped"],
        "not_read_tables": dict(Counter(t.kind_label for t in getattr(doc, "tables", []) if t.status == "not-read")),
        "empty_tables": len([t for t in getattr(doc, "tables", []) if t.status == "empty"]),
    }


# -- in the main process --------------------------------------------------------------------------
def files_of(folder: Path) -> list[Path]:
    return sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)


def run(files: list[Path], workers: int, tree: str, timeout: int) -> list[dict]:
    """Measure every file in worker processes; results in file order. A worker that dies takes
    only its own file: the others are measured again in a fresh pool, and a file that breaks a
    pool on its own is reported as such."""
    results: dict[str, dict] = {}
    pending = [str(f) for f in files]
    ctx = multiprocessing.get_context("spawn")  # the workers import the parser under test, not this process's
    alone = False  # after a pool broke: one file per pool, to find which file breaks it
    while pending:
        size = 1 if alone else workers
        broken: list[str] = []
        with cf.ProcessPoolExecutor(max_workers=size, mp_context=ctx, initializer=_init_worker, initargs=(tree,)) as pool:
            batch = pending[:1] if alone else pending
            futures = {pool.submit(measure, f, timeout): f for f in batch}
            for fut in cf.as_completed(futures):
                f = futures[fut]
                try:
                    results[f] = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    broken.append(f)
                    if alone:
                        results[f] = {"file": Path(f).name, "status": "failed", "seconds": None,
                                      "reason": f"worker process died ({_last_line(exc)})"}
        done = set(results)
        pending = [f for f in pending if f not in done]
        alone = alone or bool(broken)
    return [results[str(f)] for f in files]


def refusal_class(reason: str | None) -> str:
    """A refusal reason without the file's own names and numbers, to count reasons."""
    r = reason or ""
    r = re.sub(r"'[^']*'|“[^”]*”|\"[^\"]*\"", "'…'", r)
    r = re.split(r"; |: (?=')|, first:", r)[0]
    r = re.sub(r"\(line \d+\)|\d+", "N", r)
    return r.strip()


def totals(rows: list[dict], wall: float, workers: int) -> dict:
    text = [r for r in rows if r.get("text_layer")]
    read = [r for r in rows if r["status"] == "read"]
    checks = sum(r.get("checks", 0) for r in read)
    ok = sum(r.get("checks_ok", 0) for r in read)
    with_checks = [r for r in read if r.get("checks")]
    all_ok = [r for r in read if not r.get("checks_diff")]
    pages = sum(r.get("pages") or 0 for r in rows if r["status"] != "failed")
    # reading speed over the PDFs read whole (a file refused after its first pages was not)
    read_s = sum(r["read_seconds"] for r in read if r.get("pages") and r.get("read_seconds"))
    pdf_pages = sum(r["pages"] for r in read if r.get("pages") and r.get("read_seconds"))
    targets = [r for r in rows if r.get("prints_target_table")]
    missing = [r["file"] for r in targets if not r.get("projects_with_indicators")]
    return {
        "files": len(rows), "files_with_text_layer": len(text),
        "read": len(read), "read_of_text_layer": len([r for r in text if r["status"] == "read"]),
        "read_share_of_text_layer": _share(len([r for r in text if r["status"] == "read"]), len(text)),
        "refused": len([r for r in rows if r["status"] == "refused"]),
        "refused_by_reason": dict(Counter(refusal_class(r["reason"]) for r in rows if r["status"] == "refused").most_common()),
        "failures": len([r for r in rows if r["status"] == "failed"]),
        "checks": checks, "checks_ok": ok, "checks_ok_share": _share(ok, checks),
        "read_files_every_check_ok": len(all_ok), "read_files_with_checks": len(with_checks),
        "read_files_every_check_ok_share": _share(len(all_ok), len(read)),
        "projects": sum(r.get("projects", 0) for r in read),
        "projects_with_indicators": sum(r.get("projects_with_indicators", 0) for r in read),
        "indicators": sum(r.get("indicators", 0) for r in read), "key_tasks": sum(r.get("key_tasks", 0) for r in read),
        "budget_lines": sum(r.get("budget_lines", 0) for r in read),
        "pages": pages, "pages_of_read_pdfs": pdf_pages, "pdf_read_seconds": round(read_s, 2),
        "pages_per_s_per_worker": round(pdf_pages / read_s, 1) if read_s else None,
        "wall_seconds": round(wall, 2), "workers": workers,
        "pages_per_s_wall": round(pages / wall, 1) if wall else None,
        "tables_skipped": sum(r.get("skipped_tables", 0) for r in read),
        "tables_skipped_by_reason": dict(Counter(refusal_class(x) for r in read for x in r.get("skipped_reasons", [])).most_common()),
        "tables_not_read_by_kind": dict(sum((Counter(r.get("not_read_tables", {})) for r in read), Counter()).most_common()),
        "tables_empty": sum(r.get("empty_tables", 0) for r in read),
        "files_printing_target_tables": len(targets),
        "target_tables_without_projects_with_indicators": missing,
    }


def _share(a: int, b: int) -> float | None:
    return round(100 * a / b, 1) if b else None


def _print_human(rows: list[dict], tot: dict, label: str) -> None:
    print(f"# {label}")
    for r in rows:
        if r["status"] == "read":
            tables = ", ".join(f"{k} {v}" for k, v in r.get("tables", {}).items())
            print(f"read     {r['file']}: {r['projects']} projects ({r['projects_with_indicators']} with indicators), "
                  f"{r['indicators']} indicators, {r['key_tasks']} key tasks, {r['budget_lines']} budget lines; "
                  f"勾稽 {r['checks_ok']} OK / {r['checks_diff']} DIFF; {r.get('pages') or '-'} pages, {r['seconds']} s")
            if tables:
                print(f"         tables: {tables}")
            for d in r.get("diffs", [])[:3]:
                print(f"         DIFF {d}")
        else:
            word = "refused" if r["status"] == "refused" else "FAILED"
            print(f"{word:8} {r['file']}: {r['reason']} ({r.get('pages') or '-'} pages, {r.get('seconds')} s)")
    t = tot
    print()
    print(f"files {t['files']}, with a text layer {t['files_with_text_layer']}; read {t['read_of_text_layer']} of those "
          f"({t['read_share_of_text_layer']}%), {t['read']} in all; refused {t['refused']}; failures {t['failures']}")
    for reason, n in t["refused_by_reason"].items():
        print(f"  refused {n:3}  {reason}")
    print(f"勾稽: {t['checks_ok']} of {t['checks']} checks OK ({t['checks_ok_share']}%); read files with every check OK: "
          f"{t['read_files_every_check_ok']} of {t['read']} ({t['read_files_every_check_ok_share']}%; "
          f"{t['read']- t['read_files_with_checks']} of them with no check to run)")
    print(f"found: {t['projects']} projects ({t['projects_with_indicators']} with indicators), {t['indicators']} indicators, "
          f"{t['key_tasks']} key tasks, {t['budget_lines']} budget lines")
    print(f"tables of read files: skipped {t['tables_skipped']}, empty {t['tables_empty']}, no reader for "
          + (", ".join(f"{k} {v}" for k, v in t["tables_not_read_by_kind"].items()) or "none"))
    for reason, n in t["tables_skipped_by_reason"].items():
        print(f"  skipped {n:3}  {reason}")
    print(f"speed: {t['pages']} pages; PDF reading {t['pages_per_s_per_worker']} pages/s per worker "
          f"(over the {t['pages_of_read_pdfs']} pages of the PDFs read); "
          f"{t['pages_per_s_wall']} pages/s wall clock with {t['workers']} workers ({t['wall_seconds']} s)")
    miss = t["target_tables_without_projects_with_indicators"]
    print(f"files printing a project target table: {t['files_printing_target_tables']}; "
          f"of them with no project with indicators: {len(miss)}")
    for f in miss:
        print(f"  {f}")


#: totals compared between a baseline tree and this one
COMPARED = ("read_of_text_layer", "read_share_of_text_layer", "refused", "failures", "checks", "checks_ok_share",
            "read_files_every_check_ok", "read_files_every_check_ok_share", "projects", "projects_with_indicators",
            "indicators", "key_tasks", "budget_lines", "pages_per_s_per_worker")


def compare(before_rows: list[dict], after_rows: list[dict], before: dict, after: dict) -> dict:
    """What changed between the baseline's totals and this tree's, and the reading-speed ratio over
    the PDFs both read whole (the same pages, read at the same time)."""
    out = {k: {"before": before.get(k), "after": after.get(k)} for k in COMPARED}
    out["target_tables_without_projects_with_indicators"] = {
        "before": len(before["target_tables_without_projects_with_indicators"]),
        "after": len(after["target_tables_without_projects_with_indicators"])}
    both = [(b, a) for b, a in zip(before_rows, after_rows)
            if b["status"] == a["status"] == "read" and b.get("pages") and b.get("read_seconds") and a.get("read_seconds")]
    pages = sum(b["pages"] for b, _ in both)
    b_s, a_s = sum(b["read_seconds"] for b, _ in both), sum(a["read_seconds"] for _, a in both)
    out["speed"] = {"pdfs_read_by_both": len(both), "pages": pages,
                    "before_pages_per_s": round(pages / b_s, 1) if b_s else None,
                    "after_pages_per_s": round(pages / a_s, 1) if a_s else None,
                    "ratio": round(b_s / a_s, 2) if a_s else None}
    return out


def run_both(files: list[Path], workers: int, tree: str, baseline: str, timeout: int) -> tuple[list[dict], list[dict], float]:
    """This tree and the baseline side by side (two pools at once, half the workers each)."""
    half = max(1, workers // 2)
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(2) as threads:
        mine = threads.submit(run, files, half, tree, timeout)
        base = threads.submit(run, files, half, baseline, timeout)
        return mine.result(), base.result(), time.perf_counter() - t0


def measure_ingest(files: list[Path], workers: int) -> dict:
    """``ingest --no-index`` of the files read in this process, then by ``workers`` processes."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ingest.pipeline import ingest_paths
    from ingest.store import open_store

    out: dict = {"files": len(files), "workers": workers}
    dumps = {}
    with tempfile.TemporaryDirectory(prefix="budgetkg-ingest-") as tmp:
        for label, n in (("serial", 1), ("parallel", workers)):
            data = Path(tmp) / label
            store = open_store(data)
            t0, cpu0 = time.perf_counter(), _cpu_seconds()
            try:
                outcomes = ingest_paths(store, files, workers=n)
            finally:
                out[f"{label}_seconds"] = round(time.perf_counter() - t0, 2)
                # CPU of this process and its (finished) workers: what the work cost, whatever else ran
                out[f"{label}_cpu_seconds"] = round(_cpu_seconds() - cpu0, 2)
                dumps[label] = _document_quads(store)
                store.close()
            out[f"{label}_stored"] = sum(1 for o in outcomes if o.status != "error")
            shutil.rmtree(data, ignore_errors=True)
    out["speedup"] = round(out["serial_seconds"] / out["parallel_seconds"], 2) if out["parallel_seconds"] else None
    out["same_store"] = dumps["serial"] == dumps["parallel"]
    return out


def _cpu_seconds() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _document_quads(store) -> list[str]:
    """The store's quads but the ontology graph's (its blank nodes get fresh ids at every load)."""
    from ingest.mapping import ONTOLOGY_GRAPH

    mark = f"<{ONTOLOGY_GRAPH}> ."
    return sorted(q for q in store.dump("nq").decode("utf-8").splitlines() if not q.endswith(mark))


def _print_comparison(cmp: dict, baseline: str) -> None:
    print()
    print(f"# before ({baseline}) → after (this tree), the same files at the same time")
    for k, v in cmp.items():
        if k != "speed":
            print(f"  {k:48} {v['before']!s:>10} → {v['after']!s}")
    sp = cmp["speed"]
    print(f"  PDF reading over the {sp['pdfs_read_by_both']} PDFs both read ({sp['pages']} pages): "
          f"{sp['before_pages_per_s']} → {sp['after_pages_per_s']} pages/s per worker (after/before speed {sp['ratio']})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER, help="documents (default ../shared/corpus/bulk)")
    ap.add_argument("--json", action="store_true", help="one JSON object: files and totals")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: the CPUs)")
    ap.add_argument("--tree", type=Path, default=ROOT, help="source tree whose parser to measure (default: this one)")
    ap.add_argument("--baseline", type=Path, default=None, help="also measure this tree's parser, side by side, and compare")
    ap.add_argument("--ingest", action="store_true", help="measure ingest (serial, then --workers processes) instead")
    ap.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds one file may take")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files")
    args = ap.parse_args(argv)
    if not args.folder.is_dir():
        print(f"ERROR {args.folder}: not a folder", file=sys.stderr)
        return 2
    files = files_of(args.folder)[: args.limit]
    workers = max(1, args.workers)
    if args.ingest:
        res = measure_ingest(files, workers)
        if args.json:
            print(json.dumps({"folder": str(args.folder), "ingest": res}, ensure_ascii=False, indent=1))
        else:
            print(f"ingest --no-index of {res['files']} files: {res['serial_seconds']} s read in one process "
                  f"({res['serial_cpu_seconds']} s CPU), {res['parallel_seconds']} s with {workers} worker processes "
                  f"({res['parallel_cpu_seconds']} s CPU; {res['speedup']}x); "
                  f"documents stored {res['serial_stored']} / {res['parallel_stored']}; "
                  f"same store: {'yes' if res['same_store'] else 'NO'}")
        return 0
    tree = str(args.tree.resolve())
    result: dict = {"folder": str(args.folder), "tree": tree}
    if args.baseline is not None:
        rows, base_rows, wall = run_both(files, workers, tree, str(args.baseline.resolve()), args.timeout)
        half = max(1, workers // 2)
        tot, base_tot = totals(rows, wall, half), totals(base_rows, wall, half)
        result["baseline"] = {"tree": str(args.baseline.resolve()), "files": base_rows, "totals": base_tot}
        result["comparison"] = compare(base_rows, rows, base_tot, tot)
    else:
        t0 = time.perf_counter()
        rows = run(files, workers, tree, args.timeout)
        tot = totals(rows, time.perf_counter() - t0, workers)
    result.update(files=rows, totals=tot)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    if args.baseline is not None:
        _print_human(base_rows, base_tot, f"before: parser of {args.baseline.resolve()} on {args.folder}")
        print()
    _print_human(rows, tot, f"parser of {tree} on {args.folder}")
    if args.baseline is not None:
        _print_comparison(result["comparison"], str(args.baseline.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
