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

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import DecodeError

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


def _pdf_lines(path: Path, data: bytes, max_pages: int | None) -> tuple[str, list[Line], int, int]:
    """A PDF's lines: table rows as tab-joined cells of their grid, other text as layout lines."""
    from .pdf import extract_pdf

    ex = extract_pdf(str(path), data, max_pages=max_pages)
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


def read_source(path: str | Path, max_pages: int | None = None) -> SourceText:
    """Read a document: UTF-8 (with or without BOM), GB18030/GBK, or PDF. Refuses what is not text."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise DecodeError(str(path), "empty file")
    lines: list[Line] | None = None
    pages: int | None = None
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise DecodeError(str(path), "truncated PDF (no %%EOF marker)")
        text, lines, pages, chars = _pdf_lines(path, data, max_pages)
        encoding = "pdf"
        if chars == 0:
            raise DecodeError(str(path), f"scanned PDF: none of its {pages} pages has a text layer (OCR it first)")
    else:
        if b"\x00" in data[:65536]:
            raise DecodeError(str(path), "binary file (NUL bytes); expected text or PDF")
        text = encoding = None
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            # UTF-8 but for a character cut at the very end: a truncated file, not GB18030
            if _looks_truncated_utf8(data):
                raise DecodeError(str(path), "truncated UTF-8 (the file ends inside a character)") from None
            try:
                text, encoding = data.decode("gb18030"), "gb18030"
            except UnicodeDecodeError:
                raise DecodeError(str(path), "not UTF-8 or GB18030/GBK text (cannot decode)") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(_CJK.findall(text)) < 20:
        raise DecodeError(str(path), "no Chinese text found; not a budget disclosure")
    return SourceText(path=str(path), text=text, sha256=sha, encoding=encoding or "",
                      lines=tuple(lines) if lines is not None else None, pages=pages)


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
