"""Classification codes (科目编码) as printed in budget tables → full codes.

Two national code lists key the tables:

- 支出功能分类科目 (functional): 类 3 digits › 款 5 › 项 7, all starting with 2
  (``201`` 一般公共服务支出 › ``20101`` 人大事务 › ``2010101`` 行政运行);
- 支出经济分类科目 (economic): 类 3 › 款 5, starting with 3 (部门预算经济分类) or 5 (政府预算经济分类)
  (``301`` 工资福利支出 › ``30101`` 基本工资).

Tables print them whole (``2080104``, ``[2080104]``, ``2080104综合业务管理``, ``2014001-行政运行``), in
split 类 | 款 | 项 columns (``201 05 07``), as only the segment a row adds to the row above it
(``210`` / ``11`` / ``01`` = 2101101), or with a 款's leading zero lost (``301 2`` = 30102). A number is
taken for a code only where a code is printed (the row's first cells) and only when it has the shape
of a real 类/款/项 of one of the two lists — a count (``12 个``), a standard's number (``GB/T 1234``), a
year or a page number never is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

FUNCTIONAL = "functional"
ECONOMIC = "economic"
#: level of a code by its length
LEVEL = {3: "类", 5: "款", 7: "项"}
#: digits a segment adds: 类 3, 款 2, 项 2
SEGMENT = 2
CLASS_WIDTH = 3

# 类 of the two lists: 功能分类 201–234 (and 299 of older lists), 经济分类 301–399 / 501–599
_FUNCTIONAL_CLASS = re.compile(r"^2(?:[0-3]\d|99)$")
_ECONOMIC_CLASS = re.compile(r"^[35](?:0\d|1\d|99)$")

#: a whole code at the start of a cell, bracketed or not, maybe glued to the subject's name
#: (``[2080104] 综合业务管理``, ``2014001-行政运行``, ``2010507专项普查活动``)
WHOLE_CODE = re.compile(r"^[\[【〔(（]?(\d{7}|\d{5}|\d{3})[\]】〕)）]?(?![\d.,，%％])\s*(?:[-－—–_.．、:：]\s*)?(.*)$", re.S)
#: a bare segment (款 or 项) of a split code: 1 or 2 digits
SEGMENT_CELL = re.compile(r"^\d{1,2}$")
#: what after a number shows it is a quantity, not a code: 12 个, 2024 年, 95 %
_QUANTITY_AFTER = re.compile(r"^\s*(个|人|次|项|元|万|亿|年|月|日|天|家|户|台|套|辆|份|件|名|所|座|处|条|米|公里|平方|吨|%|％|‰|[.,，]\d)")
_STANDARD_BEFORE = re.compile(r"(GB|GB/T|DB\d*|DB\d*/T|JJG|JGJ|HJ|QB|HG|No\.?|第|编号|号|年|《)\s*[-/]?\s*$", re.I)


def scheme_of(code: str) -> str | None:
    """``functional`` or ``economic`` for a plausible whole code, None for anything else."""
    if len(code) not in LEVEL or not code.isdigit():
        return None
    if _FUNCTIONAL_CLASS.match(code[:CLASS_WIDTH]):
        return FUNCTIONAL
    if len(code) <= 5 and _ECONOMIC_CLASS.match(code[:CLASS_WIDTH]):
        return ECONOMIC
    return None


def is_class(code: str) -> bool:
    return len(code) == CLASS_WIDTH and scheme_of(code) is not None


def parents(code: str) -> list[str]:
    """The 类 (and 款) above a code, most general first."""
    return [code[:n] for n in (3, 5) if n < len(code)]


def quantity_follows(text: str, end: int) -> bool:
    """True when the number ending at ``end`` in ``text`` is a quantity (``12 个``, ``95%``)."""
    return bool(_QUANTITY_AFTER.match(text[end:]))


def standard_precedes(text: str, start: int) -> bool:
    """True when the number starting at ``start`` is a standard's or document's number (GB/T 1234)."""
    return bool(_STANDARD_BEFORE.search(text[:start]))


def whole_code(cell: str) -> tuple[str, str] | None:
    """(code, rest) when ``cell`` starts with a plausible whole code: ``2014001-行政运行`` → (2014001, 行政运行).

    The rest must be empty or a name (starting with a non-digit), so that ``2024年`` or ``301.5`` are
    never codes."""
    m = WHOLE_CODE.match(cell.strip())
    if not m:
        return None
    code, rest = m.group(1), m.group(2).strip()
    if scheme_of(code) is None or (rest and (rest[0].isdigit() or quantity_follows(cell.strip(), m.end(1)))):
        return None
    return code, rest


def pad(segment: str) -> str:
    """A 款/项 segment printed without its leading zero (``2`` → ``02``)."""
    return segment.zfill(SEGMENT)


@dataclass
class Hierarchy:
    """The 类 and 款 of the rows read so far: what a row printing only its new segment adds to."""

    cls: str | None = None
    kuan: str | None = None

    def see(self, code: str) -> None:
        if len(code) >= 3:
            if self.cls != code[:3]:
                self.kuan = None
            self.cls = code[:3]
        if len(code) >= 5:
            self.kuan = code[:5]

    def compose(self, segments: list[tuple[str, str | None]]) -> str | None:
        """The full code of a row from its printed segments, each with the level of the column it
        was printed in (``类``/``款``/``项``, or None when the table has no such columns).

        ``[("201", "类"), ("05", "款"), ("07", "项")]`` → 2010507; ``[("11", "款")]`` under 210 → 21011;
        ``[("301", None), ("2", None)]`` → 30102. None when the segments do not make a plausible code
        (a 项 with no 款 above it, a segment of three digits in a 款 column …)."""
        if not segments:
            return None
        first, level = segments[0]
        if len(first) in (5, 7) and len(segments) == 1:
            return first if scheme_of(first) else None
        if len(first) == CLASS_WIDTH:
            code = first
            for seg, _ in segments[1:]:
                if not SEGMENT_CELL.match(seg):
                    return None
                code += pad(seg)
            if len(code) > 7 or scheme_of(code) is None:
                return None
            return code
        if len(first) == 5 and len(segments) == 2 and SEGMENT_CELL.match(segments[1][0]):
            code = first + pad(segments[1][0])
            return code if scheme_of(code) else None
        if not SEGMENT_CELL.match(first) or len(segments) > 2:
            return None
        # only the new segment(s): 款 (under the current 类) or 项 (under the current 款)
        if level == "项" or (level is None and len(segments) == 1 and self._deeper_is_项()):
            base = self.kuan
            if base is None:
                return None
            code = base + pad(first)
        elif level in ("款", None):
            if self.cls is None:
                return None
            code = self.cls + pad(first)
            if len(segments) == 2:
                if self.cls is None or not SEGMENT_CELL.match(segments[1][0]):
                    return None
                code += pad(segments[1][0])
        else:
            return None
        return code if scheme_of(code) else None

    def _deeper_is_项(self) -> bool:
        # without 类/款/项 columns a lone segment is a 项 when a 款 is open, else a 款
        return self.kuan is not None
