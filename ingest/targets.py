"""Indicator targets (指标值) as printed → comparator, number(s) and unit.

``≥95%`` → (≥, 95, %); ``≤24小时`` → (≤, 24, 小时); ``大于或等于90%`` → (≥, 90, %);
``81140-165696元/年/人`` → (~, 81140..165696, 元/年/人); ``30分钟内`` → (≤, 30, 分钟);
``1批`` → (=, 1, 批). Texts without a number (``有效提高``) keep only the raw string.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .records import Target

_FULLWIDTH = str.maketrans("０１２３４５６７８９．％＜＞＝～－", "0123456789.%<>=~-")

# word comparators, longest first so that 大于或等于 wins over 大于
_WORDS: list[tuple[str, str]] = [
    ("大于或等于", "≥"), ("大于等于", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"), ("至少", "≥"),
    ("小于或等于", "≤"), ("小于等于", "≤"), ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"), ("不大于", "≤"),
    ("最多", "≤"), ("大于", ">"), ("超过", ">"), ("高于", ">"), ("多于", ">"), ("小于", "<"), ("低于", "<"),
    ("少于", "<"),
]
_SYMBOLS = {">=": "≥", "<=": "≤", "≧": "≥", "≦": "≤", "≥": "≥", "≤": "≤", ">": ">", "<": "<", "=": "="}
_NUM = r"\d+(?:\.\d+)?"
_RANGE = re.compile(rf"({_NUM})\s*[-~～至到]\s*({_NUM})")
_CMP_NUM = re.compile(rf"(>=|<=|≧|≦|≥|≤|>|<|=)?\s*({_NUM})")
# unit: what follows the number up to a separator; kept as printed (%, 小时, 元/台/年, 个窗口)
_UNIT = re.compile(r"\s*([^\d\s，,。；;（）()]{0,12})")


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def parse_target(raw: str | None) -> Target | None:
    """Parse a printed target; None for an empty cell."""
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    s = raw.translate(_FULLWIDTH).replace(",", "")
    comparator: str | None = None
    for word, sym in _WORDS:
        if word in s:
            comparator = sym
            s = s.replace(word, sym, 1)
            break
    m = _RANGE.search(s)
    if m and not re.search(r"(>=|<=|≥|≤|>|<)\s*$", s[: m.start()]):
        unit = _UNIT.match(s, m.end()).group(1) or None
        return Target(raw=raw, comparator="~", low=_dec(m.group(1)), high=_dec(m.group(2)), unit=unit)
    m = _CMP_NUM.search(s)
    if not m:
        return Target(raw=raw)
    sym = _SYMBOLS.get(m.group(1) or "", None) or comparator
    value = _dec(m.group(2))
    um = _UNIT.match(s, m.end())
    unit = um.group(1) or None
    tail = s[m.end():]
    rest = s[um.end():].strip()
    # only a short lead-in ("每月", "年均") and a parenthetical may surround a quantity; anything
    # else ("2024 年 12 月底", "1月份完成25台…") is a date or prose, kept raw only
    if len(s[: m.start()].strip()) > 6 or (rest and not re.fullmatch(r"[（(][^）)]*[）)]", rest)):
        return Target(raw=raw)
    if sym is None:
        # "30分钟内", "100万元以内" → ≤ ; "10宗以上" → ≥
        if re.search(r"(以内|之内|内|以下)$", tail.strip()):
            sym = "≤"
        elif re.search(r"(以上)$", tail.strip()):
            sym = "≥"
        else:
            sym = "="
    if unit:
        unit = re.sub(r"(以内|之内|以上|以下|内)$", "", unit) or None
    if sym in ("≥", ">"):
        return Target(raw=raw, comparator=sym, low=value, unit=unit)
    if sym in ("≤", "<"):
        return Target(raw=raw, comparator=sym, high=value, unit=unit)
    return Target(raw=raw, comparator="=", low=value, high=value, unit=unit)
