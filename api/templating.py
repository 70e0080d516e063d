"""HTML output: the Jinja environment, its filters, and the security headers of every page.

Kept apart from the app factory and the views so that both can import it (the paths of the templates
and of the static files live here, not in :mod:`api.app`).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from api.readmodel.ids import local_id, page_url
from api.readmodel.labels import EXPENDITURE_TYPES, FIELD_LABELS, FLOWS, FUND_SCOPES, KIND_LABELS, SCHEME_LABELS

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: 元 in 1 万元: amounts of 10,000 元 and more are shown in 万元
WAN = 10_000

#: what the browser may load: this server only (inline styles are set by ECharts and CodeMirror)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}



# -- formatting (Jinja filters) ---------------------------------------------------------------

def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def exact_yuan(value) -> str:
    d = to_decimal(value)
    return "" if d is None else f"{d:,.2f} 元"


def yuan(value) -> Markup:
    """An amount in 元: ≥ 10,000 元 as 万元 with two decimals, the exact 元 in the title."""
    d = to_decimal(value)
    if d is None:
        return Markup('<span class="amt amt-none">—</span>')
    exact = f"{d:,.2f} 元"
    shown = f"{d / WAN:,.2f} 万元" if abs(d) >= WAN else exact
    return Markup('<span class="amt" title="{}" data-yuan="{}">{}</span>').format(exact, str(d), shown)


def signed_yuan(value) -> Markup:
    """A change in 元 (增减), with its sign: +48,000.00 元 shown as +4.80 万元."""
    d = to_decimal(value)
    if d is None:
        return Markup('<span class="amt amt-none">—</span>')
    sign = "+" if d > 0 else ""
    exact = f"{sign}{d:,.2f} 元"
    shown = "持平" if d == 0 else f"{sign}{d / WAN:,.2f} 万元" if abs(d) >= WAN else exact
    cls = "up" if d > 0 else "down" if d < 0 else "same"
    return Markup('<span class="amt change-{}" title="{}" data-yuan="{}">{}</span>').format(cls, exact, str(d), shown)


def wan(value) -> float | None:
    """元 → 万元 for charts (two decimals: what a chart can show)."""
    d = to_decimal(value)
    return None if d is None else round(float(d) / WAN, 2)


def highlight(text: str | None, terms: list[str]) -> Markup:
    """``text`` escaped, with the query terms in <mark>."""
    if not text:
        return Markup("")
    if not terms:
        return escape(text)
    pattern = re.compile("(?:" + "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)) + ")+",
                         re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def data_json(value) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``<`` escaped so it cannot close the tag)."""
    return Markup(json.dumps(value, ensure_ascii=False, default=str).replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(yuan=yuan, exact_yuan=exact_yuan, signed_yuan=signed_yuan, page_url=page_url,
                             local_id=lambda iri: local_id(iri) or "", wan=wan, data_json=data_json)
templates.env.globals.update(KIND_LABELS=KIND_LABELS, FIELD_LABELS=FIELD_LABELS, FUND_SCOPES=FUND_SCOPES,
                             EXPENDITURE_TYPES=EXPENDITURE_TYPES, SCHEME_LABELS=SCHEME_LABELS, FLOWS=FLOWS)


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("nav", "")
    resp = templates.TemplateResponse(request, name, context, status_code=status)
    resp.headers.update(SECURITY_HEADERS)
    return resp


def not_found(request: Request, what: str, key: str) -> HTMLResponse:
    return render(request, "error.html", status=404, title="未找到",
                  message=f"没有找到{what}“{key}”。", hint="链接可能已过期，或该文件尚未导入。可以回到检索页重新查找。")
