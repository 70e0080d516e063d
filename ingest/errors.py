"""Errors raised while reading a document. Each names the file and says why."""
from __future__ import annotations

import os
from pathlib import Path


def display_path(path: str | Path) -> str:
    """A file name safe to print and store whatever its bytes: undecodable bytes become U+FFFD."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


class IngestError(Exception):
    """A document could not be read; nothing of it was stored."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = display_path(path)
        self.reason = reason
        self.line = line
        where = f" (line {line})" if line else ""
        super().__init__(f"{self.path}: {reason}{where}")


class DecodeError(IngestError):
    """Empty, binary, truncated or not in a supported text encoding."""


class LayoutError(IngestError):
    """No budget disclosure structure recognised (unknown layout or not a budget document)."""


class ParseError(IngestError):
    """A recognised table could not be read completely."""


class ReaderBug(ParseError):
    """A table reader raised something no reader raises on purpose (``ValueError``, ``IndexError`` …):
    our bug, not the document's. The document is refused whole (never half read) with this error, so
    one file never stops the others; tests treat it as a failure (tests/test_fuzz.py)."""


class StoreError(Exception):
    """The data directory cannot be used (locked by another process, or damaged)."""
