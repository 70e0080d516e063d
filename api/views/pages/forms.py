"""The search form (检索表单): what a researcher typed, checked, with a Chinese message per field."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from api.templating import WAN
from index.understand import MAX_AMOUNT

MAX_Q = 1000  # characters of a question
DEFAULT_TOP = 20
MAX_TOP = 100
KINDS = ("", "project", "indicator", "task", "line")
OFF_VALUES = ("0", "false", "no", "off")


def parse_wan(value: str) -> tuple[Decimal | None, str | None]:
    """A form amount in 万元 → 元 (bounded as amounts written in a question are)."""
    v = (value or "").strip().replace(",", "").replace("，", "")
    if not v:
        return None, None
    try:
        d = Decimal(v)
    except InvalidOperation:
        return None, f"“{value}”不是数字"
    # finite first: comparing a signalling NaN raises
    if not d.is_finite() or d < 0:
        return None, f"“{value}”不是有效金额"
    if d > MAX_AMOUNT / WAN:  # compared before multiplying: 1e999999 × 10000 overflows
        return None, f"“{value}”万元过大"
    return d * WAN, None


def with_params(base: dict, **change) -> str:
    """``/?...`` with ``base`` changed (None removes a key; lists become repeated keys)."""
    params = {**base, **change}
    pairs = []
    for k, v in params.items():
        if v is None or v == "" or v == []:
            continue
        if isinstance(v, (list, tuple)):
            pairs += [(k, x) for x in v]
        else:
            pairs.append((k, v))
    return "/?" + urlencode(pairs) if pairs else "/"


@dataclass
class SearchForm:
    """The fields of ``/`` as typed (strings, kept to show them again) and as read (``*_v``)."""

    q: str = ""
    kind: str = ""
    town: str = ""
    year: str = ""
    amin: str = ""
    amax: str = ""
    top: int = DEFAULT_TOP
    parse_on: bool = True
    off: list[str] = field(default_factory=list)
    year_v: int | None = None
    amin_v: Decimal | None = None
    amax_v: Decimal | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, q: str, kind: str, town: str, year: str, amin: str, amax: str, top: str, parse: str,
             off: list[str]) -> "SearchForm":
        try:
            top_v = min(MAX_TOP, max(1, int(top)))
        except ValueError:
            top_v = DEFAULT_TOP
        q = q.strip()
        f = cls(q=q, kind=kind, town=town, year=year, amin=amin, amax=amax, top=top_v,
                parse_on=parse not in OFF_VALUES,
                off=[w for w in dict.fromkeys(off) if w and w in q])  # words of an earlier question do not carry over
        if len(q) > MAX_Q:
            f.errors["q"] = f"检索词过长（{len(q)} 字），请不超过 {MAX_Q} 字。"
        if kind not in KINDS:
            f.errors["kind"] = "类型只能是项目、指标、重点任务或预算科目行。"
        if year:
            try:
                f.year_v = int(year)
            except ValueError:
                f.errors["year"] = f"“{year}”不是年份。"
        f.amin_v, e1 = parse_wan(amin)
        f.amax_v, e2 = parse_wan(amax)
        if e1:
            f.errors["amin"] = "最低金额" + e1 + "。"
        if e2:
            f.errors["amax"] = "最高金额" + e2 + "。"
        if f.amin_v is not None and f.amax_v is not None and f.amin_v > f.amax_v:
            f.errors["amax"] = "最高金额小于最低金额。"
        return f

    @property
    def searched(self) -> bool:
        return bool(self.q or self.kind or self.town or self.year or self.amin or self.amax)

    def state(self) -> dict:
        """The URL parameters of this search (defaults left out)."""
        return {"q": self.q, "kind": self.kind, "town": self.town, "year": self.year, "amin": self.amin,
                "amax": self.amax, "top": self.top if self.top != DEFAULT_TOP else None,
                "parse": None if self.parse_on else "0", "off": self.off}
