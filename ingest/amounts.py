"""Amounts (金额) as printed → exact ``Decimal`` 元.

Printed forms seen in real documents: ``432, 000. 00`` (stray spaces from PDF extraction),
``1,938,609.21``, ``920000``, ``15`` (in a 万元 table), ``1，672.54`` (full-width comma).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .records import Money

_WAN = Decimal(10000)
_YI = Decimal(100000000)

# a number with optional thousands separators, possibly broken by spaces around them
AMOUNT_RE = re.compile(
    r"(?<![\d.])-?\d{1,3}(?:\s*[,，]\s*\d{3})+(?:\s*\.\s*\d+)?(?![\d])"
    r"|(?<![\d.])-?\d+(?:\s*\.\s*\d+)?(?![\d])"
)
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－", "0123456789.,-")


def clean_number(printed: str) -> Decimal | None:
    """The number in ``printed`` (separators and stray spaces removed), or None."""
    s = printed.translate(_FULLWIDTH).strip()
    s = re.sub(r"[\s,，]", "", s)
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - regex above guarantees a valid literal
        return None


def is_amount(cell: str) -> bool:
    """True when the whole cell is one printed amount (not a code, not text)."""
    return clean_number(cell) is not None


def to_yuan(value: Decimal, unit: str) -> Decimal:
    if unit in ("万元", "万"):
        return value * _WAN
    if unit in ("亿元", "亿"):
        return value * _YI
    return value


def parse_money(printed: str, unit: str) -> Money | None:
    """``parse_money("432, 000. 00", "元")`` → Money(432000.00 元). None if not an amount."""
    value = clean_number(printed)
    if value is None:
        return None
    unit = "万元" if unit in ("万元", "万") else ("亿元" if unit in ("亿元", "亿") else "元")
    return Money(yuan=to_yuan(value, unit), printed=printed.strip(), unit=unit)


def unit_of_label(label: str, default: str = "元") -> str:
    """The money unit named in a heading such as ``2024年预算金额（元）`` or ``项目资金 (万元)``."""
    compact = re.sub(r"\s", "", label)
    if "万元" in compact or "(万)" in compact or "（万）" in compact:
        return "万元"
    if "亿元" in compact:
        return "亿元"
    if "元" in compact:
        return "元"
    return default


# a table's money-unit caption: 单位：万元, 金额单位：元, 单位:万 / 元 (split over two lines); matched on
# the caption's text with all whitespace removed, so "单位：万" + "元" on the next line reads as 万元
_CAPTION_UNIT = re.compile(r"单位[：:](万元|亿元|元(?![\u4e00-\u9fff]))")
# a column heading that names the unit: 金额（万元）, 预算数(元), （万元）
_HEADING_UNIT = re.compile(r"[（(](万元|亿元|元)[)）]")


def caption_unit(text: str) -> str | None:
    """The money unit a caption prints (``单位：万元``, ``金额单位：元``, ``单位：苏州市水务局 单位：万元``),
    or None. ``text`` may span several lines (``单位：万`` / ``元``)."""
    compact = re.sub(r"\s+", "", text)
    m = _CAPTION_UNIT.search(compact)
    if m:
        return m.group(1)
    # a narrow caption cell wraps 单位：万 / 元, the 元 printed at the end of the next line
    rows = [r.strip() for r in text.split("\n") if r.strip()]
    for above, below in zip(rows, rows[1:]):
        if re.search(r"单位\s*[：:]\s*万$", above) and re.search(r"(^|\s)元$", below):
            return "万元"
    return None


def heading_unit(text: str) -> str | None:
    """The money unit a column heading names in brackets (``预算数（万元）``), or None."""
    m = _HEADING_UNIT.search(re.sub(r"\s+", "", text))
    return m.group(1) if m else None
