"""历年对比 (issue 13 item 4): one budget unit in two years, served by a real ``budgetkg serve`` and seen in
Chromium.

The corpus has no unit published in two years, so **the 2025 document is derived** from the real 2024
部门预算 of 东莞市清溪镇政务服务中心 (``tests/derived.py`` says exactly what changes: 专用设备租赁费支出
432,000 → 480,000 元 and every total above it, its repair-time target ≤24小时 → ≤12小时, and
政务服务中心院内停车场建设 printed as 政务服务中心（院内）停车场建设). The two are ingested one after the
other, as a unit's documents arrive year by year, so the second commit links the projects.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from derived import QINGXI_2024, qingxi_next_year
from served import Server

pytestmark = pytest.mark.slow

UNIT = "0ccf550f29c9103f"  # 东莞市清溪镇政务服务中心: one IRI in both years
RENTAL_2024 = "a5607415adf71490"  # 专用设备租赁费支出, 2024
ARTIFACTS = ROOT / "tests" / ".artifacts"
SHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("BUDGETKG_CHROMIUM", "/usr/bin/chromium")
#: the same texts as the samples' (plus a few changed ones): an earlier run's embeddings serve again
EMBED_CACHES = [ARTIFACTS / "years-embeddings.sqlite", ARTIFACTS / "web-embeddings.sqlite", ARTIFACTS / "api-embeddings.sqlite"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("years")
    data = base / "data"
    data.mkdir()
    seed = next((p for p in EMBED_CACHES if p.exists()), None)
    if seed is not None:
        shutil.copy(seed, data / "embeddings.sqlite")
    folder = base / "docs"
    folder.mkdir()
    for doc in (QINGXI_2024, qingxi_next_year(folder)):  # one commit each: the second links to the first
        r = subprocess.run([sys.executable, "-m", "api", "--data", str(data), "ingest", str(doc)], cwd=ROOT,
                           capture_output=True, text=True, env=os.environ.copy(), timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(data / "embeddings.sqlite", EMBED_CACHES[0])
    s = Server(data, base / "serve.log", "--sparql-workers", "1")
    try:
        yield s.wait_ready()
    finally:
        s.stop()


def get(server, path: str, **params) -> httpx.Response:
    return httpx.get(server.url + path, params=params, timeout=60)


# -- JSON ---------------------------------------------------------------------------------------

def test_unit_totals_side_by_side_with_the_change(server):
    c = get(server, "/api/compare", unit=UNIT).json()
    assert c["unit"] == {"iri": f"https://w3id.org/budgetkg/id/unit/{UNIT}", "id": UNIT,
                         "name": "东莞市清溪镇政务服务中心", "town": "清溪镇"}
    assert c["years"] == [2024, 2025]
    # the printed 支出总计: 992.85 万元 in 2024; the derived 2025 adds the rental's 4.80 万元
    assert [(t["year"], Decimal(t["amount"]), t["change"]) for t in c["totals"]] == [
        (2024, Decimal("9928500"), None), (2025, Decimal("9976500"), "48000")]


def test_every_project_beside_itself_in_the_other_year(server):
    c = get(server, "/api/compare", unit=UNIT).json()
    rows = {p["name"]: p for p in c["projects"]}
    assert len(rows) == 8 and all(len(p["years"]) == 2 for p in rows.values())
    rental = rows["专用设备租赁费支出"]
    assert rental["match_rule"] == "exact name"
    assert [(y["year"], y["amount"], y["change"]) for y in rental["years"]] == [(2024, "432000", None), (2025, "480000", "48000")]
    assert rental["years"][0]["id"] == RENTAL_2024
    # named differently in 2025: linked after normalising the names, shown under its latest name
    parking = rows["政务服务中心（院内）停车场建设"]
    assert parking["match_rule"] == "name after normalisation"
    assert [y["name"] for y in parking["years"]] == ["政务服务中心院内停车场建设", "政务服务中心（院内）停车场建设"]
    assert [y["change"] for y in parking["years"]] == [None, "0"]


def test_indicator_targets_by_year(server):
    c = get(server, "/api/compare", project=RENTAL_2024).json()
    assert [p["name"] for p in c["projects"]] == ["专用设备租赁费支出"]
    targets = {i["name"]: [t["target"] for t in i["targets"]] for i in c["projects"][0]["indicators"]}
    assert len(targets) == 6
    assert targets["报障后维护人员到场时间"] == ["≤24小时", "≤12小时"]  # full-width ≤ kept as printed
    assert targets["当年度预算执行率（%）"] == ["100%", "100%"]


@pytest.mark.parametrize("params, status", [
    ({}, 422), ({"unit": UNIT, "project": RENTAL_2024}, 422), ({"unit": "0000000000000000"}, 404),
    ({"project": "0000000000000000"}, 404), ({"unit": "a>b"}, 422), ({"unit": UNIT, "year": "2024"}, 422)])
def test_bad_requests_are_4xx(server, params, status):
    assert get(server, "/api/compare", **params).status_code == status


# -- in the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (make test does)")
    if not Path(CHROMIUM).exists():  # pragma: no cover - make test installs it
        pytest.skip(f"{CHROMIUM} missing: apt-get install chromium fonts-noto-cjk (make test does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  reduced_motion="reduce")
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()
    assert not errors, errors


def test_unit_page_shows_its_years_side_by_side(page):
    page.goto(f"/unit/{UNIT}")
    section = page.locator("#years")
    assert section.locator("h2").inner_text().startswith("历年对比")
    totals = section.locator("table.years-totals tbody td").all_inner_texts()
    assert [t.split("\n")[0] for t in totals] == ["992.85 万元", "997.65 万元"]
    assert totals[1].split("\n")[1] == "+4.80 万元"
    rental = section.locator("table.years-projects tr", has_text="专用设备租赁费支出")
    assert rental.locator("td").all_inner_texts() == ["43.20 万元", "48.00 万元\n+4.80 万元"]
    # the exact 元 is in the title of the amount
    assert rental.locator("td .amt").first.get_attribute("title") == "432,000.00 元"
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / "years-unit-laptop.png"))


def test_project_page_shows_its_targets_by_year(page):
    page.goto(f"/project/{RENTAL_2024}")
    section = page.locator("#years")
    row = section.locator("details.years-indicators tr", has_text="报障后维护人员到场时间")
    assert row.locator("td").all_inner_texts()[-2:] == ["≤24小时", "≤12小时"]
    assert row.get_attribute("class") == "changed"  # the target changed: the row is marked
    # the 2025 amount links to the 2025 project's page
    page.locator("#years table.years-projects a", has_text="48.00 万元").click()
    page.wait_for_url("**/project/*")
    assert page.url.rsplit("/", 1)[-1] != RENTAL_2024
    assert page.locator("h1").inner_text() == "专用设备租赁费支出"
    assert "2025年" in page.locator("main").inner_text()
