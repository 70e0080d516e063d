"""The 重点项目 list of a budget document (项目 | 预算数(单位:万元) | 绩效目标) → entries, and
linking entries to the projects whose performance tables they summarise.

Names differ slightly between the list and the tables (政务服务中心停车场建设 vs
政务服务中心院内停车场建设; ASCII vs full-width brackets; a space from a line wrap). An entry is
linked when the normalised names are equal, or when one name is contained in the other / they
are very similar *and* the amounts agree; the link records which.
"""
from __future__ import annotations

import difflib
import re
from decimal import Decimal

from .amounts import is_amount, parse_money, unit_of_label
from .errors import ParseError
from .records import KeyProjectEntry, ProjectTargetTable, Span
from .text import Line, key

_TOLERANCE = Decimal(5000)  # 0.5 万元: amounts in 万元 lists are rounded to 0.01 万元


_GOAL_HEADING = re.compile(r"绩效目标|目标")


def read_key_projects(lines: list[Line], start: int, end: int, path: str = "") -> list[KeyProjectEntry]:
    """Entries of a 重点项目 list: 项目 | 预算数（单位：万元） | 绩效目标. The amount's unit comes from
    its heading, else the list's caption or the unit the document's tables print; a list whose unit
    cannot be told is skipped (:class:`ParseError`), never guessed."""
    from .project_targets import MoneyContext, caption_unit, document_money_units

    header = lines[start]
    unit = next((u for _, c in header.filled if (u := unit_of_label(c, default=""))), None)
    money = MoneyContext(caption_unit(lines, max(0, start - 3), start + 1), document_money_units(lines))
    unit = unit or money.unit()
    goal_col = next((col for col, c in header.filled[1:] if _GOAL_HEADING.search(key(c))), None)
    out: list[KeyProjectEntry] = []
    for line in lines[start + 1 : end]:
        cells = line.filled
        if len(cells) < 2:
            if line.filled and not line.tabbed:
                break
            continue
        name = cells[0][1]
        amt = next((c for _, c in cells[1:] if is_amount(c)), None)
        if amt is None or is_amount(name):
            continue
        if unit is None:
            raise ParseError(path or "document", f"key-project list: {money.why_not()}", line.no)
        goal = dict(cells).get(goal_col) if goal_col is not None else None
        out.append(KeyProjectEntry(name=re.sub(r"\s+", "", name) if " " in name else name,
                                   amount=parse_money(amt, unit), span=Span(line.no, line.no), goal=goal))
    return out


def match_key(name: str) -> str:
    return re.sub(r"[()（）\[\]【】“”\"'‘’]", "", key(name))


def link(entry: KeyProjectEntry, projects: list[ProjectTargetTable]) -> tuple[ProjectTargetTable, str] | None:
    """The project an entry summarises, with a note saying how they were matched."""
    ek = match_key(entry.name)
    for p in projects:
        if match_key(p.name) == ek:
            how = "same name" if p.name == entry.name else f"same name after normalising brackets/spaces: {entry.name} = {p.name}"
            return p, how
    best: tuple[float, ProjectTargetTable] | None = None
    for p in projects:
        pk = match_key(p.name)
        ratio = difflib.SequenceMatcher(None, ek, pk).ratio()
        contained = ek in pk or pk in ek
        agree = entry.amount is not None and p.amount is not None and abs(entry.amount.yuan - p.amount.yuan) <= _TOLERANCE
        if agree and (contained or ratio >= 0.8) and (best is None or ratio > best[0]):
            best = (ratio, p)
    if best is None:
        return None
    p = best[1]
    return p, (
        f"name differs: {entry.name} (list) vs {p.name} (performance table); "
        f"linked because the names are {'contained one in the other' if match_key(entry.name) in match_key(p.name) or match_key(p.name) in match_key(entry.name) else f'{best[0]:.0%} similar'}"
        f" and the amounts agree ({entry.amount.printed} {entry.amount.unit} vs {p.amount.printed} {p.amount.unit})"
    )
