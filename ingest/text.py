"""Decoding documents and splitting them into lines and cells.

Budget disclosures arrive as text extracted from PDF in three shapes: tab-separated cells (merged
cells become empty leading columns), ``pdftotext -layout`` columns (cells separated by runs of
spaces), and one cell per line. PDFs themselves are extracted with pdfplumber into the layout shape.
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

    @property
    def tabbed(self) -> bool:
        return "\t" in self.raw

    @property
    def filled(self) -> list[tuple[int, str]]:
        """(column index, text) of the non-empty cells."""
        return [(i, c) for i, c in enumerate(self.cells) if c]

    @property
    def text(self) -> str:
        return self.raw.strip()


@dataclass(frozen=True)
class SourceText:
    path: str
    text: str
    sha256: str
    encoding: str


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


def _extract_pdf(path: Path, data: bytes) -> str:
    import pdfplumber  # imported lazily: only PDFs need it
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    import io

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            # wide enough a character grid that right-aligned amounts are not cut at the page edge
            pages = [(p.extract_text(layout=True, layout_width_chars=400) or "") for p in pdf.pages]
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as exc:
        raise DecodeError(str(path), f"unreadable or truncated PDF ({exc.__class__.__name__}: {exc})") from exc
    lines: list[str] = []
    for page in pages:
        for line in page.splitlines():
            line = line.rstrip()
            # layout mode pads pages with blank lines; keep at most one in a row
            if line or (lines and lines[-1]):
                lines.append(line)
    return "\n".join(lines)


def read_source(path: str | Path) -> SourceText:
    """Read a document: UTF-8 (with or without BOM), GB18030/GBK, or PDF. Refuses what is not text."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise DecodeError(str(path), "empty file")
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise DecodeError(str(path), "truncated PDF (no %%EOF marker)")
        text, encoding = _extract_pdf(path, data), "pdf"
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
    return SourceText(path=str(path), text=text, sha256=sha, encoding=encoding or "")


def _looks_truncated_utf8(data: bytes) -> bool:
    """UTF-8 except for an incomplete last character: a file cut mid-character, not GB18030."""
    for cut in (1, 2, 3):
        try:
            data[:-cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def split_lines(text: str) -> list[Line]:
    out = []
    for i, raw in enumerate(text.split("\n"), start=1):
        # a form feed marks a page break inside a line (pdftotext); it separates cells like a space
        raw = raw.replace("\x0c", "  ")
        if "\t" in raw:
            cells = tuple(clean_cell(c) for c in raw.split("\t"))
        else:
            stripped = raw.strip()
            cells = tuple(clean_cell(c) for c in re.split(r"\s{2,}|\u3000+", stripped)) if stripped else ()
        out.append(Line(no=i, raw=raw, cells=cells))
    return out
