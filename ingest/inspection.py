"""What ``budgetkg inspect`` reports about one document, without touching any store.

:func:`inspect_file` reads the document as ``ingest`` would and returns a plain dict — the JSON of
``budgetkg inspect --json`` (shape below, :data:`REPORT_VERSION`) — so that a user sees why a
document was read the way it was: each table with its kind, title, pages and lines, how many rows
were read and why a table was skipped, the counts of records, the 勾稽 checks
(:mod:`ingest.consistency`) and, for a document that would be refused, the reason.

Shape (keys always present; ``null`` where unknown)::

    {"version": 1, "file": str, "sha256": str|null, "encoding": str|null, "pages": int|null,
     "lines": int|null, "kind": str|null, "stage": "预算"|"决算"|null, "title": str|null,
     "unit": str|null, "region": [{"name", "level", "adcode"}], "year": int|null,
     "money_units": [str], "stored": bool, "refusal": str|null, "refusal_line": int|null,
     "tables": [{"kind", "kind_label", "title", "number", "stage", "pages": [int, int]|null,
                 "lines": [int, int], "status": "read"|"empty"|"skipped"|"not-read", "rows": int,
                 "reason": str|null}],
     "counts": {"tables_read", "tables_empty", "tables_skipped", "tables_not_read", "projects",
                "projects_with_indicators", "indicators", "key_tasks", "budget_lines",
                "key_project_entries"},
     "checks": {"total": int, "ok": int, "diff": int, "findings": [{"document", "check", "subject",
                "ok", "expected", "actual", "diff", "tolerance", "lines"}]},
     "warnings": [str]}

Amounts in findings are 元, as decimal strings. A file that cannot be decoded at all (a scan, an
empty or binary file) has ``refusal`` set and empty tables and counts.
"""
from __future__ import annotations

from pathlib import Path

from .consistency import check_document
from .errors import IngestError
from .parse import read_document
from .text import Line, read_source

REPORT_VERSION = 1
STAGE_FINAL = "决算"


def inspect_file(path: str | Path, strict: bool = False) -> tuple[dict, list[Line]]:
    """The report of one document and its extracted lines (empty when it could not be decoded)."""
    try:
        src = read_source(path)
    except IngestError as exc:  # not decodable (a scan, empty, binary …) or plainly not a budget
        return _unread(path, exc), []
    lines = src.split()
    try:
        doc = read_document(src, strict=strict)
    except IngestError as exc:  # a table that breaks its reader (or any, with strict): the document is refused
        out = _unread(path, exc)
        out.update(sha256=src.sha256, encoding=src.encoding, pages=src.pages, lines=len(lines))
        return out, lines
    return report(doc), lines


def _unread(path: str | Path, exc: IngestError) -> dict:
    return {"version": REPORT_VERSION, "file": str(path), "sha256": None, "encoding": None, "pages": None,
            "lines": None, "kind": None, "stage": None, "title": None, "unit": None, "region": [], "year": None,
            "money_units": [], "stored": False, "refusal": exc.reason, "refusal_line": exc.line,
            "tables": [], "counts": _counts(None), "checks": {"total": 0, "ok": 0, "diff": 0, "findings": []},
            "warnings": []}


def report(doc) -> dict:
    """The report of a parsed document (also of one that would be refused)."""
    findings = check_document(doc)
    ok = sum(1 for f in findings if f.ok)
    return {
        "version": REPORT_VERSION, "file": doc.path, "sha256": doc.sha256, "encoding": doc.encoding,
        "pages": doc.pages, "lines": doc.line_count, "kind": doc.kind, "stage": _stage(doc),
        "title": doc.title or None, "unit": doc.unit_name or None,
        "region": [{"name": n, "level": lv, "adcode": code} for n, lv, code in doc.region.chain],
        "year": doc.year, "money_units": _money_units(doc), "stored": doc.refusal is None,
        "refusal": doc.refusal, "refusal_line": None,
        "tables": [_table(t) for t in doc.tables], "counts": _counts(doc),
        "checks": {"total": len(findings), "ok": ok, "diff": len(findings) - ok,
                   "findings": [f.as_dict() for f in findings]},
        "warnings": list(doc.warnings),
    }


def _stage(doc) -> str | None:
    stages = {t.stage for t in doc.tables}
    if not stages:
        return None
    return STAGE_FINAL if STAGE_FINAL in stages else "预算"


def _money_units(doc) -> list[str]:
    """Units the amounts were printed in (元 / 万元), from every amount read."""
    units = {t.unit for t in doc.budget_tables}
    moneys = [p.amount for p in doc.projects] + [e.amount for e in doc.key_projects]
    moneys += [k.amount for d in doc.department_targets for k in d.tasks]
    units |= {m.unit for m in moneys if m is not None}
    return sorted(units)


def _table(t) -> dict:
    return {"kind": t.kind, "kind_label": t.kind_label, "title": t.title, "number": t.number, "stage": t.stage,
            "pages": list(t.pages) if t.pages else None, "lines": [t.span.start, t.span.end], "status": t.status,
            "rows": t.rows, "reason": t.reason}


def _counts(doc) -> dict:
    if doc is None:
        return {k: 0 for k in ("tables_read", "tables_empty", "tables_skipped", "tables_not_read", "projects",
                               "projects_with_indicators", "indicators", "key_tasks", "budget_lines",
                               "key_project_entries")}
    status = [t.status for t in doc.tables]
    return {
        "tables_read": status.count("read"), "tables_empty": status.count("empty"),
        "tables_skipped": status.count("skipped"), "tables_not_read": status.count("not-read"),
        "projects": len(doc.projects), "projects_with_indicators": sum(1 for p in doc.projects if p.indicators),
        "indicators": sum(len(p.indicators) for p in doc.projects) + sum(len(d.indicators) for d in doc.department_targets),
        "key_tasks": sum(len(d.tasks) for d in doc.department_targets),
        "budget_lines": sum(len(t.lines) for t in doc.budget_tables),
        "key_project_entries": len(doc.key_projects),
    }
