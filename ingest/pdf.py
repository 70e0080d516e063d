"""PDF → lines of cells: ruled tables as grids of cells, the text between them as layout lines.

Most disclosures are ruled-table PDFs (WPS, Word, Excel, iText). pdfplumber's table finder reads
each table from its ruling lines, so a wrapped cell stays one cell, an amount broken over two lines
is one number and a merged cell is known as merged (pdfplumber gives ``None`` for the cells a merged
cell covers). Text outside the tables (titles, ``单位：万元`` captions, narrative) is extracted in
layout mode, band by band between the tables, so that it keeps its place before or after them.
Page furniture (page numbers) is dropped. A table that runs on at the top of the next page with the
same columns is one grid: its lines carry the same ``grid`` number.

Measured on ``corpus/bulk`` (283 pages): pdfplumber ≈ 24 pages/s with tables, PyMuPDF's
``find_tables`` ≈ 4 pages/s (and AGPL); so pdfplumber (MIT).
"""
from __future__ import annotations

import io
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

from .errors import DecodeError, IngestError, LayoutError

# a page number or running footer alone on its line: "—6—", "- 12 -", "第 3 页", "第3页 共20页", "12"
PAGE_NUMBER = re.compile(r"^[\s\-—–－_·•]*(第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,3}(\s*/\s*\d{1,3})?)[\s\-—–－_·•]*$")
_ENUM = re.compile(r"^(\d{1,2}[.、．)]|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、|[①-⑳]|第[一二三四五六七八九十]+)")
_ASCII_WORD = re.compile(r"[A-Za-z]")


@dataclass
class PdfRow:
    """One row of a ruled table: cell texts ('' for an empty cell) and the columns that a merged
    cell to their left (or above) covers."""

    cells: list[str]
    merged: tuple[int, ...]


@dataclass
class PdfItem:
    """A text line (``row`` None) or a table row, in reading order, with its page."""

    page: int
    text: str = ""
    row: PdfRow | None = None
    grid: int | None = None


@dataclass
class PdfExtraction:
    items: list[PdfItem] = field(default_factory=list)
    pages: int = 0
    chars: int = 0
    grids: int = 0


def join_cell_lines(text: str) -> str:
    """A cell's text lines as one: a wrapped phrase or an amount split over lines is joined without
    a break; a line starting a list item (1. / （二） / ①) keeps its own line."""
    parts = [p.strip() for p in text.split("\n")]
    out = ""
    for p in parts:
        if not p:
            continue
        if not out:
            out = p
        elif _ENUM.match(p):
            out += "\n" + p
        elif _ASCII_WORD.match(out[-1]) and _ASCII_WORD.match(p[0]):
            out += " " + p
        else:
            out += p
    return out


def _rows(table) -> list[PdfRow]:
    rows = []
    for raw in table.extract():
        cells = ["" if c is None else join_cell_lines(c) for c in raw]
        merged = tuple(i for i, c in enumerate(raw) if c is None)
        rows.append(PdfRow(cells, merged))
    return rows


def _text_lines(page, top: float, bottom: float, tables) -> list[str]:
    """Layout text of the horizontal band ``top``..``bottom`` without the chars of any table."""
    if bottom - top < 1:
        return []
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        if not (top <= y < bottom):
            return False
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    band = page.filter(outside)
    text = band.extract_text(layout=True, layout_width_chars=400) or ""
    return [ln.rstrip() for ln in text.split("\n")]


#: a PDF whose first pages never say 预算/决算/绩效 is not read further (a 328-page drug list took 170 s)
PROBE_PAGES = 6
BUDGET_WORDS = re.compile(r"预\s*算|决\s*算|绩\s*效|经\s*费|支\s*出")


class _Inflated(MemoryError):
    """The streams of a PDF inflated past the limit (a MemoryError: the memory it would take)."""


class _BoundedZlib:
    """zlib as pdfminer uses it (``decompress``, ``decompressobj``, ``error``), counting the bytes every
    stream of one document inflates to against a budget: past it, :class:`_Inflated` — before more
    than the budget is held. pdfminer inflates xref and object streams, page contents, forms and
    fonts, never images. Measured: a 1.5 MB PDF of compressed zeros inflated to 1.5 GB and took
    3.15 GB RSS; a 1 GB one now stops at 0.6 GB RSS with a 256 MB budget, 0.15 GB with 32 MB."""

    error = zlib.error

    def __init__(self, budget: int):
        self.left = budget
        self.exceeded = False

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            self.exceeded = True  # stays known if some library code catches the exception
            raise _Inflated("PDF streams inflate past the limit")

    def decompress(self, data: bytes, *args, **kwargs) -> bytes:
        d = zlib.decompressobj(*args, **kwargs)
        out = d.decompress(data, max(0, self.left) + 1)  # one byte more than allowed tells it is too much
        self.take(len(out))
        if not d.eof:
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        return out

    def decompressobj(self, *args, **kwargs) -> "_BoundedStream":
        return _BoundedStream(self, zlib.decompressobj(*args, **kwargs))


class _BoundedStream:
    """A zlib decompressor whose output counts against the document's budget (pdfminer's repair of
    a damaged stream feeds it byte by byte)."""

    def __init__(self, budget: _BoundedZlib, inner):
        self.budget, self.inner = budget, inner

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        cap = max(0, self.budget.left) + 1
        out = self.inner.decompress(data, min(max_length, cap) if max_length else cap)
        self.budget.take(len(out))
        return out

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@contextmanager
def inflate_limit(path: str, max_bytes: int | None):
    """While reading one PDF: pdfminer's streams inflate to ``max_bytes`` at most in all, else
    :class:`DecodeError` (None: no limit). One document is read at a time in a process."""
    if max_bytes is None:
        yield
        return
    import pdfminer.pdftypes as pdftypes

    bounded = _BoundedZlib(max_bytes)
    saved, pdftypes.zlib = pdftypes.zlib, bounded
    try:
        yield
    except (_Inflated, IngestError):
        # pdfplumber wraps what pdfminer raises (then "damaged PDF"): the limit is the reason
        if not bounded.exceeded:
            raise
    finally:
        pdftypes.zlib = saved
    if bounded.exceeded:
        raise DecodeError(path, f"its streams decompress beyond {max_bytes / 2**20:.0f} MB, the limit "
                          "(BUDGETKG_MAX_PDF_INFLATED_MB); a compression bomb, or not a budget disclosure")


def extract_pdf(path: str, data: bytes, max_pages: int | None = None,
                max_inflated: int | None = None) -> PdfExtraction:
    """Read every page: tables as rows of cells, other text as layout lines, in reading order.
    ``max_inflated``: bytes the PDF's compressed streams may inflate to, in all.

    Raises :class:`LayoutError` early when the first pages name no budget word at all."""
    with inflate_limit(path, max_inflated):
        return _extract_pdf(path, data, max_pages)


def _extract_pdf(path: str, data: bytes, max_pages: int | None) -> PdfExtraction:
    import pdfplumber  # imported lazily: only PDFs need it
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    out = PdfExtraction()
    pages: list[list[_Entry]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            out.pages = len(pdf.pages)
            if max_pages is not None and out.pages > max_pages:
                raise DecodeError(path, f"PDF has {out.pages} pages, more than the limit of {max_pages}")
            probe = ""
            for pno, page in enumerate(pdf.pages, start=1):
                out.chars += len(page.chars)
                if pno <= PROBE_PAGES:
                    probe += "".join(c["text"] for c in page.chars)
                    if (pno == PROBE_PAGES or pno == out.pages) and out.chars and not BUDGET_WORDS.search(probe):
                        raise LayoutError(path, f"not a budget disclosure: its first {pno} pages never say 预算, 决算, "
                                          "绩效, 经费 or 支出")
                pages.append(_read_page(page))
                page.flush_cache()
    except (DecodeError, LayoutError):
        raise
    except (PdfminerException, MalformedPDFException, PSException, ValueError, KeyError, TypeError,
            IndexError, RecursionError, ZeroDivisionError, OverflowError, EOFError) as exc:
        # pdfminer reports damage as any of these (a truncated stream is a KeyError or EOFError)
        raise DecodeError(path, f"unreadable or damaged PDF ({exc.__class__.__name__}: {exc})") from exc
    _drop_running_lines(pages)
    _join(pages, out)
    return out


@dataclass
class _Entry:
    """A text line, or a whole table (its rows), of one page."""

    text: str = ""
    rows: list[PdfRow] | None = None


def _read_page(page) -> list[_Entry]:
    entries: list[_Entry] = []
    tables = sorted(page.find_tables(), key=lambda t: (round(t.bbox[1]), t.bbox[0]))
    cursor = 0.0
    for t in tables:
        entries.extend(_Entry(text=ln) for ln in _text_lines(page, cursor, t.bbox[1], tables) if ln.strip())
        entries.append(_Entry(rows=_rows(t)))
        cursor = max(cursor, t.bbox[3])
    entries.extend(_Entry(text=ln) for ln in _text_lines(page, cursor, float(page.height) + 1, tables) if ln.strip())
    return entries


#: running headers and footers are the text lines repeated at the top or bottom of this share of pages
RUNNING_SHARE = 0.3
#: … and of at least this many pages
RUNNING_MIN_PAGES = 3
#: how many text lines at a page's top and bottom are looked at for running headers/footers
RUNNING_EDGE = 2


# a caption or title repeated on every page is the table's, not furniture: 编制部门：X  单位：元
_INFORMATIVE = re.compile(r"[：:]|表\s*$|表[(（][^)）]*[)）]\s*$")


def _running_key(text: str) -> str:
    # page numbers inside a footer differ from page to page: 苏州市…预算公开 - 12 -
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _drop_running_lines(pages: list[list[_Entry]]) -> None:
    """Remove page numbers and the running headers/footers (``苏州市交通运输局2026年度部门预算公开`` atop every
    page): they would separate a table from its continuation on the next page."""
    def edges(entries: list[_Entry]) -> list[_Entry]:
        texts = [e for e in entries if e.rows is None]
        return texts[:RUNNING_EDGE] + texts[-RUNNING_EDGE:]

    seen: dict[str, set[int]] = {}
    for n, entries in enumerate(pages):
        for e in edges(entries):
            seen.setdefault(_running_key(e.text), set()).add(n)
    threshold = max(RUNNING_MIN_PAGES, RUNNING_SHARE * len(pages))
    running = {k for k, on in seen.items() if len(on) >= threshold and not _INFORMATIVE.search(k)}
    for n, entries in enumerate(pages):
        edge = {id(e) for e in edges(entries)}
        pages[n] = [e for e in entries if e.rows is not None or not (
            PAGE_NUMBER.match(e.text) or (id(e) in edge and _running_key(e.text) in running))]


def _join(pages: list[list[_Entry]], out: PdfExtraction) -> None:
    """Items in reading order; a table that opens a page with the columns of the table that closed the
    previous page is the same table (one grid)."""
    grid_no = 0
    open_grid: tuple[int, int] | None = None  # (grid, columns) of a table still open at the page end
    for pno, entries in enumerate(pages, start=1):
        for n, e in enumerate(entries):
            if e.rows is None:
                out.items.append(PdfItem(pno, text=e.text))
                open_grid = None
                continue
            ncols = max((len(r.cells) for r in e.rows), default=0)
            if n == 0 and open_grid is not None and open_grid[1] == ncols:
                gid = open_grid[0]  # the previous page's table runs on
            else:
                grid_no += 1
                gid = grid_no
            out.items.extend(PdfItem(pno, row=r, grid=gid) for r in e.rows)
            open_grid = (gid, ncols)
    out.grids = grid_no
