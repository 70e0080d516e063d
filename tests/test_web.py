"""The web pages in a real browser (issue 5).

A copy of the session's samples data directory (``conftest``: ingested and indexed once per run) is
served by a real ``budgetkg serve`` process; Playwright drives Debian's Chromium (``/usr/bin/chromium``;
``make test`` installs it and a CJK font). Every test records each request the page makes and every console error: no request may
leave 127.0.0.1 and no page may log an error. Screenshots of every page, at laptop and phone width,
are written to ``tests/.artifacts/screenshots/`` for people to look at.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("BUDGETKG_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / ".artifacts"
SHOTS = ARTIFACTS / "screenshots"
QINGXI_RENTAL = "a5607415adf71490"   # 专用设备租赁费支出, 清溪镇 2024
NANCHENG_RENTAL = "c6cec4138d1e21db"  # 专用设备租赁费支出, 南城街道 2026
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (make test does)")
if not Path(CHROMIUM).exists():  # pragma: no cover - make test installs it
    pytest.skip(f"{CHROMIUM} missing: apt-get install chromium fonts-noto-cjk (make test does)", allow_module_level=True)


# -- the server ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(samples_index_dir, tmp_path_factory) -> Path:
    """A copy of the session's samples data directory (ingested and indexed once per run; the CLI
    ingest itself is tested in tests/test_api.py): a served store is locked, so each server has its own."""
    data = tmp_path_factory.mktemp("web-data") / "data"
    shutil.copytree(samples_index_dir, data)
    return data


@pytest.fixture(scope="module")
def base_url(data_dir, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("web-log") / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "api", "--data", str(data_dir), "serve", "--port", str(port)],
                            cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--no-first-run"])
        yield b
        b.close()


class Recorder:
    """Every request and console error of one browser context."""

    def __init__(self, context):
        self.requests: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda req: self.requests.append(req.url))
        context.on("console", lambda msg: self.errors.append(f"console.{msg.type}: {msg.text} @ {msg.location}")
                   if msg.type == "error" else None)
        context.on("weberror", lambda err: self.errors.append(f"page error: {err.error}"))

    def check(self, allow_errors: tuple[str, ...] = ()) -> None:
        foreign = [u for u in self.requests if urlparse(u).scheme not in ("data", "blob")
                   and urlparse(u).hostname != "127.0.0.1"]
        assert not foreign, f"requests left 127.0.0.1: {foreign}"
        errors = [e for e in self.errors if not any(a in e for a in allow_errors)]
        assert not errors, errors


@pytest.fixture
def page(browser, base_url):
    # reduced motion: the charts draw without animation, so screenshots show them finished
    context = browser.new_context(base_url=base_url, viewport=LAPTOP, locale="zh-CN", accept_downloads=True,
                                  reduced_motion="reduce")
    rec = Recorder(context)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.recorder = rec
    yield pg
    context.close()
    rec.check(allow_errors=getattr(pg, "allow_errors", ()))


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_horizontal_overflow(pg) -> None:
    over = pg.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const bad = [];
        for (const el of document.querySelectorAll('body *')) {
          if (el.closest('.table-wrap, .CodeMirror, .chart, details:not([open])')) continue;
          const r = el.getBoundingClientRect();
          if (r.width && r.right > w + 1) bad.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
        }
        return {scroll: document.documentElement.scrollWidth, width: w, bad: bad.slice(0, 10)};
    }""")
    assert over["scroll"] <= over["width"], over
    assert not over["bad"], over


def accessibility_basics(pg) -> None:
    """Unique ids, a name for every visible form control and chart, a scope for every header cell."""
    problems = pg.evaluate("""() => {
        const out = [];
        const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
        ids.filter((id, k) => ids.indexOf(id) !== k).forEach(id => out.push('duplicate id ' + id));
        for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button')) {
          if (!el.getClientRects().length) continue;
          const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
                        || (el.tagName === 'BUTTON' && el.innerText.trim());
          if (!named) out.push('no name: ' + el.outerHTML.slice(0, 80));
        }
        for (const el of document.querySelectorAll('[role=img]')) if (!el.getAttribute('aria-label')) out.push('chart without label');
        for (const th of document.querySelectorAll('main th')) if (!th.getAttribute('scope')) out.push('th without scope: ' + th.innerText.slice(0, 20));
        if (document.documentElement.lang !== 'zh-CN') out.push('lang');
        return out;
    }""")
    assert not problems, problems


def result_cards(pg) -> list[dict]:
    return pg.eval_on_selector_all("li.result", """els => els.map(e => ({
        kind: e.className.replace('result result-', ''), name: e.querySelector('.result-title').innerText.trim(),
        town: [...e.querySelectorAll('.meta div')].find(d => d.querySelector('dt').innerText === '地区')?.querySelector('dd').innerText,
        href: e.querySelector('.result-title a')?.getAttribute('href')}))""")


# -- the "done when" list ---------------------------------------------------------------------------

def test_keyboard_search_finds_both_rental_projects(page):
    page.goto("/")
    assert page.evaluate("document.activeElement.id") == "q"  # the home page starts in the search box
    page.goto("/?q=租赁")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.innerText") == "跳到正文"  # skip link first
    for _ in range(12):  # then Tab reaches the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    assert page.evaluate("document.activeElement.type") == "search"
    page.keyboard.press("Control+A")
    page.keyboard.type("自助终端 租赁")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert parse_qs(urlparse(page.url).query)["q"] == ["自助终端 租赁"]  # the URL holds the query
    cards = result_cards(page)
    rentals = {(c["town"], c["name"]) for c in cards if c["kind"] == "project"}
    assert ("清溪镇", "专用设备租赁费支出") in rentals and ("南城街道", "专用设备租赁费支出") in rentals, cards
    marks = page.eval_on_selector_all("li.result mark", "els => els.map(e => e.innerText)")
    assert any(m in ("租赁", "自助", "终端", "自助终端") for m in marks), marks  # query terms highlighted
    amount = page.locator("li.result-project .amt").first
    assert "万元" in amount.inner_text() and amount.get_attribute("title").endswith(" 元")
    shot(page, "search-results-laptop")


def test_project_page_shows_indicators_and_the_other_towns_project(page):
    page.goto("/?q=" + "自助终端 租赁")
    link = page.locator("li.result-project", has_text="清溪镇").filter(has_text="专用设备租赁费支出").locator(".result-title a").first
    with page.expect_navigation():
        link.click()
    assert urlparse(page.url).path == f"/project/{QINGXI_RENTAL}"
    assert page.locator("h1").inner_text() == "专用设备租赁费支出"
    facts = page.locator("dl.facts").inner_text()
    assert "东莞市清溪镇政务服务中心" in facts and "2024年" in facts and "43.20 万元" in facts
    # the indicator table as printed: 一级 › 二级 › 三级 and the targets
    table = page.locator("table.indicators")
    heads = table.locator("thead th").all_inner_texts()
    assert heads[:3] == ["一级指标", "二级指标", "三级指标"] and "年度指标值" in heads
    names = table.locator("tbody th.ind-name").all_inner_texts()
    targets = [t for t in table.locator("tbody td.target-cell").all_inner_texts() if t.strip() not in ("", "—")]
    assert len(names) >= 5 and len(targets) >= len(names), (names, targets)
    assert "产出指标" in table.locator("tbody th.level").all_inner_texts()
    # 可比项目: the same project of 南城街道, with the reason
    similar = page.locator("section", has=page.locator("#similar-heading"))
    first = similar.locator("li.similar").first
    assert first.locator("a").first.get_attribute("href") == f"/project/{NANCHENG_RENTAL}"
    assert "南城街道" in first.inner_text() and "项目名称相同" in first.inner_text()
    page.wait_for_selector("#mix-chart canvas")  # the indicator mix chart
    shot(page, "project-from-search-laptop")
    # an indicator result leads to its row of the table
    page.goto("/?q=设备坏了多久能修好&kind=indicator")
    href = result_cards(page)[0]["href"]
    assert "#ind-" in href
    page.goto(href)
    assert page.evaluate("document.querySelector(location.hash).matches(':target')")


def test_filters_in_the_url_and_removable_chips(page):
    page.goto("/?q=窗口")
    page.select_option("#kind", "indicator")
    page.select_option("#town", "清溪镇")
    with page.expect_navigation():
        page.locator("#q").press("Enter")
    query = parse_qs(urlparse(page.url).query)
    assert query["kind"] == ["indicator"] and query["town"] == ["清溪镇"]
    cards = result_cards(page)
    assert cards and all(c["kind"] == "indicator" and c["town"] == "清溪镇" for c in cards), cards
    bookmarked = page.url
    page.goto(bookmarked)  # a bookmarked search gives the same page
    assert result_cards(page) == cards
    # words of the question become removable chips; removing one keeps its words as text
    page.goto("/?q=清溪镇2024年的租赁项目")
    chips = page.locator("ul.chips li").all_inner_texts()
    assert any(c.startswith("地区：清溪镇") for c in chips) and any(c.startswith("年度：2024年") for c in chips), chips
    assert all(c["town"] == "清溪镇" for c in result_cards(page))
    with page.expect_navigation():
        page.get_by_role("link", name="去掉筛选“地区：清溪镇”，把“清溪镇”作为检索词").click()
    assert parse_qs(urlparse(page.url).query)["off"] == ["清溪镇"]
    chips = page.locator("ul.chips li").all_inner_texts()
    assert not any(c.startswith("地区：") for c in chips) and any("按检索词处理" in c for c in chips), chips
    assert any(c.startswith("年度：2024年") for c in chips)
    towns = {c["town"] for c in result_cards(page)}
    assert len(towns) > 1, towns  # other towns' 2024 projects come back
    shot(page, "search-chips-laptop")


def test_example_sparql_query_table_and_csv(page):
    page.goto("/sparql-editor")
    page.wait_for_selector(".CodeMirror .cm-keyword")  # syntax highlighting
    page.get_by_role("button", name="各地区的项目数与金额合计").click()
    page.wait_for_selector("#sparql-results table tbody tr")
    heads = page.locator("#sparql-results thead th").all_inner_texts()
    assert heads == ["town", "projects", "total"]
    text = page.locator("#sparql-results tbody").inner_text()
    assert "清溪镇" in text and "南城街道" in text
    assert "共" in page.locator("#sparql-status").inner_text()
    assert "query=" in page.url  # the query is in the URL to share
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载 CSV").click()
    csv_text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].strip() == "town,projects,total" and "清溪镇" in csv_text
    shot(page, "sparql-results-laptop")
    # a malformed query: a message in Chinese with the parser's words
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT ?x WHERE { ?x ")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".sparql-error")
    assert "查询有误" in page.locator(".sparql-error").inner_text()
    page.allow_errors = ("status of 400",)  # the browser logs the failed fetch itself


def test_compare_view_aligns_indicators(page):
    page.goto(f"/compare?ids={QINGXI_RENTAL},{NANCHENG_RENTAL}")
    heads = page.locator("table.compare thead th").all_inner_texts()
    assert heads == ["专用设备租赁费支出", "专用设备租赁费支出"]
    body = page.locator("table.compare").inner_text()
    assert "清溪镇" in body and "南城街道" in body and "产出指标" in body and "43.20 万元" in body and "45.71 万元" in body
    page.wait_for_selector("#cmp-amounts canvas")
    # long 二级指标 names (社会效益指标, 服务对象满意度指标) wrap inside their cell instead of running into the next
    overflowing = page.eval_on_selector_all("table.compare th.level", """els => els
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
    assert overflowing == []
    assert page.locator("table.compare th.level", has_text="社会效益指标").evaluate("e => e.getClientRects().length") >= 1
    shot(page, "compare-two-laptop")


def test_functional_class_chart_has_every_unit_year(page):
    """Every unit whose 支出总表 the graph holds is in the chart — 永登县's table prints only 项 lines, which
    roll up to their 类 (it was left out when only 类 lines were read). Amounts in 万元, each yuan once."""
    page.goto("/charts")
    page.wait_for_selector("#class-chart canvas")
    table = page.locator("section:has(#class-heading) table tbody tr th[scope=row]").all_text_contents()
    assert table == ["普陀区 2026", "石泉路街道 2026", "清溪镇 2024", "永登县 2024"]
    yongdeng = page.locator("section:has(#class-heading) table tbody tr", has_text="永登县 2024").locator("td").all_text_contents()
    # 201 一般公共服务 117.54, 208 社会保障和就业 9.28, 210 卫生健康 3.60, 221 住房保障 6.63 万元 = 137.05 万元 printed 支出总计
    assert [v for v in yongdeng if v != "—"] == ["117.54", "9.28", "3.60", "6.63"]
    page.locator("#class-chart").screenshot(path=str(SHOTS / "charts-functional-classes.png"))


def test_empty_results_and_bad_input_have_clear_messages(page):
    page.goto("/?kind=task&town=永登县")
    assert "没有找到结果" in page.locator("#results-heading").inner_text()
    assert "没有符合条件" in page.locator(".results .alert").inner_text()
    shot(page, "search-empty-laptop")
    page.goto("/?q=租赁&amin=abc")
    assert "不是数字" in page.locator(".field-error").inner_text()
    page.goto("/project/0000000000000000")
    assert "没有找到项目" in page.locator("main").inner_text()
    shot(page, "not-found-laptop")
    page.allow_errors = ("status of 404",)


PAGES = [
    ("home", "/"),
    ("search", "/?q=自助终端 租赁"),
    ("project", f"/project/{QINGXI_RENTAL}"),
    ("unit", "/unit/0ccf550f29c9103f"),
    ("target", "/target/250d4f872cccc550"),
    ("document", "/document/06a315420748bfb5"),
    ("code", "/code/2080505"),
    ("codes", "/codes"),
    ("compare", f"/compare?ids={QINGXI_RENTAL},{NANCHENG_RENTAL}"),
    ("compare-pick", "/compare"),
    ("charts", "/charts"),
    ("sparql", "/sparql-editor"),
]


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_every_page_renders_without_overflow(page, viewport):
    page.set_viewport_size(PHONE if viewport == "phone" else LAPTOP)
    for name, path in PAGES:
        resp = page.goto(path)
        assert resp.status == 200, (path, resp.status)
        page.wait_for_load_state("networkidle")
        if page.locator(".chart").count():
            page.wait_for_selector(".chart canvas")
        no_horizontal_overflow(page)
        accessibility_basics(page)
        shot(page, f"page-{name}-{viewport}")


def test_chinese_text_is_drawn_with_a_cjk_font(page):
    """Chinese glyphs differ from the boxes drawn for unassigned code points (no tofu)."""
    page.goto("/")
    differs = page.evaluate("""() => {
        const font = getComputedStyle(document.body).fontFamily;
        const draw = (text) => {
          const c = document.createElement('canvas'); c.width = 80; c.height = 40;
          const g = c.getContext('2d'); g.font = '24px ' + font; g.fillText(text, 2, 30);
          return Array.from(g.getImageData(0, 0, 80, 40).data).join(',');
        };
        return draw('预算') !== draw('\u0378\u0379') && draw('预算') !== draw('指标');
    }""")
    assert differs


def test_no_request_left_the_machine(page):
    """The pages that load vendored scripts (charts, the editor) load them from this server."""
    for path in ("/charts", "/sparql-editor", f"/project/{QINGXI_RENTAL}"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    requests = page.recorder.requests
    hosts = {urlparse(u).hostname for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, hosts
    assert any("/static/vendor/echarts/" in u for u in requests)
    assert any("/static/vendor/codemirror/" in u for u in requests)
