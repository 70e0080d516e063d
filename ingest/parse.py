"""Read one document: detect its layout and tables, run one parser per table kind, and check the
result is complete enough to store. Raises :class:`IngestError` subclasses naming the file."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .budget_tables import read_budget_table
from .department_targets import read_department_table
from .descriptions import read_description
from .errors import IngestError, LayoutError, ParseError
from .key_projects import read_key_projects
from .project_targets import read_project_table
from .records import BudgetTable, ParsedDocument
from .regions import resolve
from .sections import Block, find_blocks
from .text import Line, SourceText, key, read_source, split_lines

PARSER_VERSION = "1"

_YEAR = re.compile(r"(20\d{2})\s*年")
_UNIT_LABEL = re.compile(
    r"(?:单位名称|部门名称|预算主管部门|预算单位|编制部门|编制单位|部门\(单位\)名称)\s*[：:]\s*(\S[^\s：:]*?(?:（本级）|\(本级\))?)(?=\s{2,}|\s*单位\s*[：:]|\s*目\s*录|$)"
)
_UNIT_SUFFIX = re.compile(r"(中心|局|委员会|委|办公室|人民政府|办事处|街道|院|所|站|队|会|馆|厅|部|社|处)$")


def _title_area(lines: list[Line], blocks: list[Block]) -> list[Line]:
    stop = blocks[0].start if blocks else len(lines)
    out = [ln for ln in lines[:stop] if ln.text]
    return out[:15]


_TOC = re.compile(r"^#*\s*目\s*录|^目\s*录")


def _title(title_lines: list[Line]) -> str:
    """The document's own title: its first lines, up to a table of contents or a section."""
    parts: list[str] = []
    for ln in title_lines[:4]:
        text = re.sub(r"^#+\s*", "", ln.text)
        text = re.split(r"\s*目\s*录", text)[0].strip()
        if parts and (_TOC.match(ln.text) or re.match(r"^[一二三四五六七八九十]+、|^附件\s*\d*$|^第[一二三四五六七八九十]+部分", text)):
            break
        if text and len(text) < 80 and not re.fullmatch(r"附件\s*\d*", text):
            parts.append(text)
        if _TOC.search(ln.text):
            break
    return " ".join(parts)[:200]


def _doc_kind(title_lines: list[Line]) -> str:
    # the title proper: a table of contents below it names other tables (…部门预算经济分类…)
    head = key(" ".join(ln.text for ln in title_lines[:3]))
    if "部门预算" in head:
        return "部门预算"
    if "单位预算" in head:
        return "单位预算"
    return "绩效目标表"


def _unit_name(lines: list[Line], doc: ParsedDocument) -> str | None:
    for dt in doc.department_targets:
        if dt.unit_name:
            return dt.unit_name
    for ln in lines[:400]:
        m = _UNIT_LABEL.search(ln.text.replace("\t", "  "))
        if m and _UNIT_SUFFIX.search(m.group(1).replace("（本级）", "").replace("(本级)", "")):
            return m.group(1)
    names = Counter(p.implementing_unit or p.competent_department for p in doc.projects if (p.implementing_unit or p.competent_department))
    if names:
        return names.most_common(1)[0][0]
    return None


def _continues(prev: BudgetTable, table: BudgetTable) -> bool:
    """A table split across pages: the same title (and number) again, its rows continuing."""
    return bool(table.title) and table.title == prev.title and table.number == prev.number and table.unit == prev.unit


def _merge(prev: BudgetTable, table: BudgetTable) -> None:
    seen = {ln.code for ln in prev.lines}
    prev.lines.extend(ln for ln in table.lines if ln.code not in seen)
    prev.total = prev.total or table.total
    for k, v in table.summary_totals.items():
        prev.summary_totals.setdefault(k, v)
    prev.span = prev.span.merge(table.span)


def parse_source(src: SourceText) -> ParsedDocument:
    lines = split_lines(src.text)
    blocks = find_blocks(lines)
    path = src.path
    if not blocks:
        raise LayoutError(path, "no budget table, project performance-target table or department-wide target table recognised")
    title_lines = _title_area(lines, blocks)
    title = _title(title_lines)
    doc = ParsedDocument(path=path, sha256=src.sha256, encoding=src.encoding, kind=_doc_kind(title_lines), title=title,
                         unit_name="", region=None, year=None, line_count=len(lines))  # type: ignore[arg-type]
    floor = 0
    for b in blocks:
        try:
            if b.kind == "project":
                doc.projects.append(read_project_table(path, lines, b.start, b.end))
            elif b.kind == "department":
                dt = read_department_table(path, lines, b.start, b.end)
                ctx = " ".join(ln.text for ln in lines[max(floor, b.start - 6) : b.start])
                years = _YEAR.findall(ctx)
                dt.year = int(years[0]) if years else None
                doc.department_targets.append(dt)
            elif b.kind == "budget":
                table = read_budget_table(path, lines, b.start, b.end)
                if table is None:
                    pass
                elif doc.budget_tables and _continues(doc.budget_tables[-1], table):
                    _merge(doc.budget_tables[-1], table)
                else:
                    doc.budget_tables.append(table)
            elif b.kind == "keyprojects":
                doc.key_projects.extend(read_key_projects(lines, b.start, b.end))
            elif b.kind == "description":
                d = read_description(lines, b.start, b.end)
                if d is not None:
                    doc.descriptions.append(d)
        except IngestError:
            raise
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
            # a parser bug must not pass as a half-read document: refuse it, naming the table
            raise ParseError(path, f"cannot read the {b.kind} table ({exc.__class__.__name__}: {exc})", lines[b.start].no) from exc
        floor = b.end
    if not (doc.projects or doc.department_targets or any(t.lines for t in doc.budget_tables)):
        raise LayoutError(path, "tables found but none could be read (no coded budget lines, projects or targets)")
    unit = _unit_name(lines, doc)
    if not unit:
        raise LayoutError(path, "budget unit not found (no 单位名称/部门名称/编制单位/用款单位)")
    doc.unit_name = unit
    head_text = " ".join(ln.text for ln in title_lines)
    years = _YEAR.findall(head_text.replace(" ", ""))
    if years:
        doc.year = int(years[0])
    else:
        stated = {p.amount_year for p in doc.projects if p.amount_year} | {d.year for d in doc.department_targets if d.year}
        doc.year = stated.pop() if len(stated) == 1 else None
    context = src.text[:3000] + " " + " ".join(t.title for t in doc.budget_tables)
    doc.region = resolve(unit, context)
    if not doc.region.chain:
        raise LayoutError(path, f"region of {unit!r} not recognised")
    for p in doc.projects:
        doc.warnings.extend(p.warnings)
    for d in doc.department_targets:
        doc.warnings.extend(d.warnings)
    return doc


def parse_file(path: str | Path) -> ParsedDocument:
    return parse_source(read_source(path))
