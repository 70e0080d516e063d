"""Decoding documents and splitting them into lines of cells: the one table model every reader uses.

Budget disclosures arrive as PDF or as text extracted from PDF or copied from web pages. Text comes
in several shapes: tab-separated cells (merged cells become empty leading columns),
``pdftotext -layout`` columns (cells separated by runs of spaces), pipe tables (``| a | b |``), and
one cell per line. PDFs are read by :mod:`ingest.pdf`: each ruled table as a grid of cells, whose
rows become tab-separated lines of one ``grid``, and the text between tables as layout lines. Every
line keeps its 1-based number in the extracted text (what ``budgetkg inspect --text`` prints) and,
for PDFs, its page.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import DecodeError, display_path

_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Line:
    """One line of the document: 1-based number, text as extracted, and its cells."""

    no: int
    raw: str
    cells: tuple[str, ...]
    page: int | None = None
    #: the ruled table (PDF) this line is a row of; rows of a table continued over pages share it
    grid: int | None = None
    #: columns covered by a merged cell to their left or above (PDF grids)
    merged: tuple[int, ...] = ()

    @property
    def tabbed(self) -> bool:
        return "\t" in self.raw or self.grid is not None

    @property
    def filled(self) -> list[tuple[int, str]]:
        """(column index, text) of the non-empty cells."""
        return [(i, c) for i, c in enumerate(self.cells) if c]

    @property
    def text(self) -> str:
        return self.raw.strip()


@dataclass(frozen=True)
class SourceText:
    """A decoded document: its text and its lines (for a PDF, the lines of its extraction)."""

    path: str
    text: str
    sha256: str
    encoding: str
    lines: tuple[Line, ...] | None = None
    pages: int | None = None

    def split(self) -> list[Line]:
        return list(self.lines) if self.lines is not None else split_lines(self.text)


def key(s: str) -> str:
    """Search/matching key: NFKC (full-width → half-width), no whitespace, no trailing colon.

    Only for comparing; labels keep their printed form.
    """
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"\s+", "", s)
    return s.rstrip(":：")


def clean_cell(s: str) -> str:
    """A cell's text as printed, minus extraction debris: surrounding spaces, HTML paragraph tags."""
    s = s.strip().strip("\u3000")
    if "<p>" in s or "</p>" in s:
        parts = [p.strip() for p in re.split(r"</?p>", s)]
        s = "\n".join(p for p in parts if p)
    return s


def _pdf_lines(path: Path, data: bytes, max_pages: int | None, max_inflated: int | None) -> tuple[str, list[Line], int, int]:
    """A PDF's lines: table rows as tab-joined cells of their grid, other text as layout lines."""
    from .pdf import extract_pdf

    ex = extract_pdf(display_path(path), data, max_pages=max_pages, max_inflated=max_inflated)
    lines: list[Line] = []
    for item in ex.items:
        no = len(lines) + 1
        if item.row is not None:
            cells = tuple(clean_cell(c) for c in item.row.cells)
            # a cell's kept list breaks become spaces in the raw line (one line per row)
            raw = "\t".join(c.replace("\n", " ") for c in cells)
            lines.append(Line(no, raw, cells, page=item.page, grid=item.grid, merged=item.row.merged))
        elif item.text.strip():
            line = split_lines(item.text)[0]
            lines.append(Line(no, line.raw, line.cells, page=item.page))
    text = "\n".join(ln.raw for ln in lines)
    return text, lines, ex.pages, ex.chars


#: limits on what one document may cost to read (a 200 MB text took > 4 GB and minutes; a PDF of
#: thousands of pages is not a budget disclosure)
MAX_TEXT_BYTES = 64 * 1024 * 1024
MAX_PDF_BYTES = 256 * 1024 * 1024
MAX_PDF_PAGES = 1500


def max_pdf_inflated() -> int:
    """Bytes the compressed streams of one PDF may inflate to in all: ``$BUDGETKG_MAX_PDF_INFLATED_MB``,
    default 256 MB (the 22 real PDFs of tests/fixtures inflate to 3.2 MB at most; a 1.5 MB compression bomb
    to 1.5 GB, which took 3.15 GB RSS to read)."""
    raw = os.environ.get("BUDGETKG_MAX_PDF_INFLATED_MB", "").strip()
    try:
        mb = float(raw) if raw else 256.0
    except ValueError:
        mb = 256.0
    return int(mb * 2**20)


def read_source(path: str | Path, max_pages: int | None = MAX_PDF_PAGES, max_text_bytes: int = MAX_TEXT_BYTES,
                max_pdf_bytes: int = MAX_PDF_BYTES, max_inflated: int | None = None) -> SourceText:
    """Read a document: UTF-8 (with or without BOM), UTF-16 (BOM), GB18030/GBK, or PDF. Refuses what is
    not text, and what is larger than the limits, with the reason."""
    path = Path(path)
    name = display_path(path)
    try:
        size = path.stat().st_size
        limit = max_pdf_bytes if path.suffix.lower() == ".pdf" else max_text_bytes
        if size > max(limit, max_text_bytes, max_pdf_bytes):
            raise DecodeError(name, f"file of {size / 2**20:.0f} MB is larger than the limit of {limit / 2**20:.0f} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(name, f"cannot read file ({exc.strerror or exc})") from exc
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise DecodeError(name, "empty file")
    lines: list[Line] | None = None
    pages: int | None = None
    if data.startswith(b"%PDF-"):
        if len(data) > max_pdf_bytes:
            raise DecodeError(name, f"PDF of {len(data) / 2**20:.0f} MB is larger than the limit of {max_pdf_bytes / 2**20:.0f} MB")
        if b"%%EOF" not in data[-2048:]:
            raise DecodeError(name, "truncated PDF (no %%EOF marker)")
        text, lines, pages, chars = _pdf_lines(path, data, max_pages, max_pdf_inflated() if max_inflated is None else max_inflated)
        encoding = "pdf"
        if chars == 0:
            raise DecodeError(name, f"scanned PDF: none of its {pages} pages has a text layer (OCR it first)")
    else:
        if len(data) > max_text_bytes:
            raise DecodeError(name, f"text of {len(data) / 2**20:.0f} MB is larger than the limit of {max_text_bytes / 2**20:.0f} MB")
        text, encoding = _decode(name, data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(_CJK.findall(text)) < 20:
        raise DecodeError(name, "no Chinese text found; not a budget disclosure")
    return SourceText(path=str(path), text=text, sha256=sha, encoding=encoding or "",
                      lines=tuple(lines) if lines is not None else None, pages=pages)


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """Text in UTF-8, UTF-16 (with a BOM, or NUL-interleaved ASCII/CJK without one) or GB18030."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), "utf-16"
            except UnicodeDecodeError:
                raise DecodeError(name, "UTF-16 byte order mark but not UTF-16 text") from None
    if b"\x00" in data[:65536]:
        codec = _utf16_without_bom(data[:65536])
        if codec is None:
            raise DecodeError(name, "binary file (NUL bytes); expected text or PDF")
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            raise DecodeError(name, "binary file (NUL bytes); expected text or PDF") from None
    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        # UTF-8 but for a character cut at the very end: a truncated file, not GB18030
        if _looks_truncated_utf8(data):
            raise DecodeError(name, "truncated UTF-8 (the file ends inside a character)") from None
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise DecodeError(name, "not UTF-8, UTF-16 or GB18030/GBK text (cannot decode)") from None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte order mark: line breaks and ASCII are NUL-padded on one side."""
    even, odd = head[0::2], head[1::2]
    if head.count(b"\n\x00") > head.count(b"\x00\n") and odd.count(0) > len(odd) * 0.1 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if head.count(b"\x00\n") > head.count(b"\n\x00") and even.count(0) > len(even) * 0.1 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _looks_truncated_utf8(data: bytes) -> bool:
    """UTF-8 except for an incomplete last character: a file cut mid-character, not GB18030."""
    for cut in (1, 2, 3):
        try:
            data[:-cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


_PIPE_ROW = re.compile(r"^\s*\|.*\|")


def split_lines(text: str) -> list[Line]:
    out = []
    for i, raw in enumerate(text.split("\n"), start=1):
        # a form feed marks a page break inside a line (pdftotext); it separates cells like a space
        raw = raw.replace("\x0c", "  ")
        if _PIPE_ROW.match(raw):
            # a pipe table copied from a web page: | a | b | … |, ragged trailing pipes
            cells = tuple(clean_cell(c) for c in raw.strip().strip("|").split("|"))
            while cells and not cells[-1]:
                cells = cells[:-1]
            raw = "\t".join(cells)
        elif "\t" in raw:
            cells = tuple(clean_cell(c) for c in raw.split("\t"))
        else:
            stripped = raw.strip()
            cells = tuple(clean_cell(c) for c in re.split(r"\s{2,}|\u3000+", stripped)) if stripped else ()
        out.append(Line(no=i, raw=raw, cells=cells))
    return out
