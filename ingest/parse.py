"""Read one document: detect its layout and tables, run one parser per table kind, and check the
result is complete enough to store. Raises :class:`IngestError` subclasses naming the file."""
from __future__ import annotations

import re
from pathlib import Path

from . import identity
from .budget_tables import document_unit, infer_codes, read_budget_table, read_continuation
from .classify import KINDS
from .department_targets import read_department_table
from .descriptions import read_description
from .errors import LayoutError, ParseError, ReaderBug
from .key_projects import read_key_projects
from .project_list import drop_subtotals, read_project_list
from .project_targets import read_project_tables
from .self_evaluation import read_self_evaluation
from .records import BudgetTable, ParsedDocument, RegionRef, Span, TableReport
from .regions import resolve
from .sections import Block, _is_data, find_blocks
from .text import Line, SourceText, read_source

PARSER_VERSION = "2"

_YEAR = re.compile(r"(20\d{2})\s*年")


def _continues(prev: BudgetTable, table: BudgetTable) -> bool:
    """A table split across pages: the same title (and number) again, its rows continuing."""
    return bool(table.title) and table.title == prev.title and table.number == prev.number and table.unit == prev.unit


def _row_key(ln) -> tuple:
    return ln.code, ln.cross_code, ln.total.yuan if ln.total else None


def _merge(prev: BudgetTable, table: BudgetTable) -> None:
    # a page repeats no row; a row printed twice (the same code and amount) is kept once
    seen = {_row_key(ln) for ln in prev.lines}
    prev.lines.extend(ln for ln in table.lines if _row_key(ln) not in seen)
    prev.total = prev.total or table.total
    for k, v in table.summary_totals.items():
        prev.summary_totals.setdefault(k, v)
    prev.summary_rows.extend(table.summary_rows)
    prev.dropped.extend(table.dropped)
    prev.layout = table.layout
    prev.span = prev.span.merge(table.span)


def _extend(prev: BudgetTable, rows: list) -> None:
    seen = {_row_key(ln) for ln in prev.lines}
    prev.lines.extend(ln for ln in rows if _row_key(ln) not in seen)
    prev.span = prev.span.merge(Span(rows[0].span.start, rows[-1].span.end))


def _report(block: Block, lines: list[Line], status: str, rows: int = 0, reason: str | None = None) -> TableReport:
    c = block.classification
    kind = c.kind if c is not None else KINDS[_DEFAULT_KIND.get(block.kind, "UnknownTable")]
    body = [ln for ln in lines[block.start:block.end] if ln.filled] or [lines[block.start]]
    pages = [ln.page for ln in body if ln.page is not None]
    return TableReport(kind=kind.id, kind_label=kind.label, title=block.title, number=block.number,
                       stage=c.stage if c is not None else "预算", span=Span(body[0].no, body[-1].no),
                       pages=(min(pages), max(pages)) if pages else None, status=status, rows=rows,
                       reason=reason if reason is not None else (c.reason if c is not None else None))


_DEFAULT_KIND = {"project": "ProjectTargetTable", "department": "DepartmentTargetTable",
                 "keyprojects": "KeyProjectList", "description": "UnknownTable", "budget": "UnknownTable"}


def _read_block(path: str, lines: list[Line], b: Block, doc: ParsedDocument, floor: int,
                document_unit: str | None = None) -> int:
    """Read one block into ``doc``; returns how many records it gave."""
    if b.kind != "budget" and doc.budget_tables:
        # coded rows before this block's title: the previous budget table ran on over a page break
        rows = read_continuation(path, lines, b, doc.budget_tables[-1], leading=True)
        if rows:
            _extend(doc.budget_tables[-1], rows)
    if b.kind == "project":
        # one block may hold several projects (a table per project, or one row per indicator)
        before = len(doc.projects[-1].indicators) if doc.projects else 0
        projects, skipped = read_project_tables(path, lines, b.start, b.end, caption=b.money_unit, floor=floor,
                                                previous=doc.projects[-1] if doc.projects else None)
        doc.projects.extend(projects)
        doc.warnings.extend(skipped)
        continued = len(doc.projects[-1].indicators) - before if doc.projects and not projects else 0
        return len(projects) + sum(len(p.indicators) for p in projects) + continued
    if b.kind == "department":
        dt = read_department_table(path, lines, _first_trigger(lines, b, "department"), b.end, caption=b.money_unit)
        ctx = " ".join(ln.text for ln in lines[max(floor, b.start - 6) : b.start + 1])
        years = _YEAR.findall(ctx.replace(" ", ""))
        dt.year = int(years[0]) if years else None
        doc.department_targets.append(dt)
        return 1 + len(dt.tasks) + len(dt.indicators)
    if b.kind == "budget" and b.classification is not None and b.classification.kind.id == "ProjectExpenditure":
        # a 项目支出表 whose head was taken for codes: a list of projects when it has a 项目名称 column
        entries = read_project_list(path, lines, b, document_unit)
        if entries:
            doc.project_budgets.extend(entries)
            return len(entries)
    if b.kind == "selfeval":
        se = read_self_evaluation(path, lines, b.start, b.end, caption=b.money_unit)
        doc.self_evaluations.append(se)
        doc.warnings.extend(se.warnings)
        return 1 + len(se.indicators)
    if b.kind == "budget":
        prev = doc.budget_tables[-1] if doc.budget_tables else None
        got = read_budget_table(path, lines, b, prev, document_unit)
        if got.continued and prev is not None:
            # rows printed before this table's title: the previous table runs on over a page break
            _extend(prev, got.continued)
        count = len(got.continued)
        for table in ([got.table] if got.table is not None else []) + got.more:
            prev = doc.budget_tables[-1] if doc.budget_tables else None
            if prev is not None and _continues(prev, table):
                _merge(prev, table)
            else:
                doc.budget_tables.append(table)
            count += len(table.lines) + len(table.summary_rows)
        return count
    if b.kind == "projectlist":
        entries = read_project_list(path, lines, b, document_unit)
        doc.project_budgets.extend(entries)
        return len(entries)
    if b.kind == "keyprojects":
        entries = read_key_projects(lines, b.start, b.end)
        doc.key_projects.extend(entries)
        return len(entries)
    if b.kind == "description":
        d = read_description(lines, b.start, b.end)
        if d is not None:
            doc.descriptions.append(d)
            return 1
        return 0
    if b.kind == "other" and (b.classification is None or b.classification.kind.id == "UnknownTable") and doc.budget_tables:
        # an untitled run of coded rows after a page header: the previous budget table runs on
        prev = doc.budget_tables[-1]
        rows = read_continuation(path, lines, b, prev)
        if rows:
            _extend(prev, rows)
            return len(rows)
    raise _NotRead(f"no reader for {b.classification.kind.label if b.classification else b.kind} tables")


class _NotRead(Exception):
    """A recognised kind of table that budgetkg does not read (三公 breakdown, 政府采购 …)."""


def _first_trigger(lines: list[Line], b: Block, kind: str) -> int:
    """Where a target table's own rows start (its 项目名称 / 部门名称 row), after its title lines."""
    from .sections import _department_start, _project_start

    test = _project_start if kind == "project" else _department_start
    for j in range(b.start, b.end):
        if lines[j].filled and test(lines, j):
            return j
    return b.start


def _unit_line(lines: list[Line], b: Block) -> int:
    """The budget reader starts at the table's 单位：万元 caption (its title is read above it)."""
    from .sections import MONEY_UNIT

    for j in range(b.start, min(b.end, b.start + 10)):
        if lines[j].grid is None and (MONEY_UNIT.search(lines[j].raw) or MONEY_UNIT.search(" " + lines[j].text)):
            return j
    return b.start


def read_document(src: SourceText, strict: bool = False) -> ParsedDocument:
    """Everything a document holds, table by table, without judging whether it can be stored:
    ``refusal`` says why not (what ``budgetkg inspect`` shows even for a refused document).

    A table that cannot be read is skipped with its reason (``doc.tables``, status ``skipped``) and
    the rest is kept; ``strict`` raises on it instead.
    """
    lines = src.split()
    path = src.path
    head = " ".join(ln.text for ln in lines[:30])
    blocks = find_blocks(lines, context=head)
    head_lines = identity.title_lines(lines, _is_data)
    doc = ParsedDocument(path=path, sha256=src.sha256, encoding=src.encoding, kind=identity.document_kind(head_lines),
                         title=identity.document_title(head_lines), unit_name="", region=RegionRef([]), year=None,
                         line_count=len(lines), pages=src.pages)
    if not [b for b in blocks if b.kind != "other"]:
        doc.refusal = "no budget table, project performance-target table or department-wide target table recognised"
        return doc
    floor = 0
    unit_everywhere = document_unit(lines, blocks)
    for b in blocks:
        try:
            rows = _read_block(path, lines, b, doc, floor, unit_everywhere)
            doc.tables.append(_report(b, lines, "read" if rows else "empty", rows))
        except _NotRead as exc:
            doc.tables.append(_report(b, lines, "not-read", reason=str(exc)))
        except ParseError as exc:
            if strict:
                raise
            doc.tables.append(_report(b, lines, "skipped", reason=exc.reason))
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
            # a parser bug must not pass as a half-read document: refuse it, naming the table (ReaderBug: the
            # fuzz test fails on it, where an expected ParseError is a clean refusal)
            raise ReaderBug(path, f"cannot read the {b.kind} table ({exc.__class__.__name__}: {exc})", lines[b.start].no) from exc
        floor = b.end
    doc.project_budgets = drop_subtotals(doc.project_budgets)
    infer_codes(doc.budget_tables)
    unit = identity.unit_name(lines, head_lines, doc)
    doc.unit_name = unit or ""
    doc.year, doc.year_source = identity.fiscal_year(head_lines, doc, path)
    doc.scope, doc.scope_basis = identity.document_scope(doc)
    if doc.scope == identity.DEPARTMENT:
        doc.listed_units = identity.listed_units(lines, doc.unit_name)
    if unit:
        context = src.text[:3000] + " " + " ".join(t.title for t in doc.budget_tables)
        doc.region = resolve(unit, context)
    for p in doc.projects:
        doc.warnings.extend(p.warnings)
    for d in doc.department_targets:
        doc.warnings.extend(d.warnings)
    for t in doc.issues:
        doc.warnings.append(f"table skipped: {t.kind_label} {t.title!r} ({t.where}): {t.reason}")
    doc.refusal = _refusal(doc)
    return doc


def _refusal(doc: ParsedDocument) -> str | None:
    """Why the document cannot be stored, or None."""
    if not (doc.projects or doc.department_targets or doc.self_evaluations or any(t.lines for t in doc.budget_tables)):
        skipped = doc.issues
        if skipped:
            first = skipped[0]
            return (f"no table could be read; {len(skipped)} skipped, first: "
                    f"{first.kind_label} {first.title!r} ({first.where}): {first.reason}")
        return "tables found but none could be read (no coded budget lines, projects or targets)"
    if not doc.unit_name:
        return "budget unit not found (no 单位名称/部门名称/编制单位/用款单位)"
    if not doc.region.chain:
        return f"region of {doc.unit_name!r} not recognised"
    return None


def parse_source(src: SourceText, strict: bool = False) -> ParsedDocument:
    """A document ready to store, or :class:`LayoutError` saying why it cannot be."""
    doc = read_document(src, strict=strict)
    if doc.refusal:
        raise LayoutError(src.path, doc.refusal)
    return doc


def parse_file(path: str | Path, strict: bool = False) -> ParsedDocument:
    return parse_source(read_source(path), strict=strict)
