"""The search page in a real browser (Chromium through Playwright, a real ``budgetkg serve``; the
server and browser fixtures are those of tests/test_web.py): filters read from the question show in
the form's controls, the no-close-match call, budget lines (issue 16 items 2–4)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from test_web import base_url, browser, data_dir, page, result_cards  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def values(pg) -> dict:
    return {k: pg.input_value(f"#{k}") for k in ("kind", "town", "year", "amin", "amax")}


def test_filters_of_the_question_show_in_the_controls(page):
    page.goto("/?q=清溪镇2024年的租赁项目")
    assert values(page) == {"kind": "project", "town": "清溪镇", "year": "2024", "amin": "", "amax": ""}
    chips = page.locator("ul.chips li").all_inner_texts()
    assert any(c.startswith("地区：清溪镇") for c in chips) and any(c.startswith("年度：2024年") for c in chips)
    # sent again unchanged, the controls add nothing: the words of the question stay the filters
    with page.expect_navigation():
        page.locator("#q").press("Enter")
    assert parse_qs(urlparse(page.url).query) == {"q": ["清溪镇2024年的租赁项目"]}
    assert values(page)["town"] == "清溪镇" and "以筛选项为准" not in page.locator("ul.chips").inner_text()
    # a control the researcher changes wins over the question, as an explicit filter does
    page.select_option("#town", "南城街道")
    with page.expect_navigation():
        page.locator("#q").press("Enter")
    query = parse_qs(urlparse(page.url).query)
    assert query == {"q": ["清溪镇2024年的租赁项目"], "town": ["南城街道"]}
    assert values(page)["town"] == "南城街道" and values(page)["kind"] == "project"
    assert "（以筛选项为准）" in page.locator("ul.chips").inner_text()
    assert all(c["town"] == "南城街道" for c in result_cards(page))


def test_removing_a_chip_clears_its_control(page):
    page.goto("/?q=清溪镇2024年的租赁项目")
    with page.expect_navigation():
        page.get_by_role("link", name="去掉筛选“地区：清溪镇”，把“清溪镇”作为检索词").click()
    assert values(page) == {"kind": "project", "town": "", "year": "2024", "amin": "", "amax": ""}


def test_an_amount_of_the_question_shows_in_wan(page):
    page.goto("/?q=东莞 50万元以上的项目")
    v = values(page)
    assert (v["amin"], v["amax"], v["kind"], v["town"]) == ("50", "", "project", "东莞市")


def test_out_of_corpus_question_says_no_close_match(page):
    page.goto("/?q=量子计算机")
    note = page.locator("#match-note")
    assert note.is_visible() and "没有找到与问题接近的内容" in note.inner_text()
    assert result_cards(page)  # the nearest are still listed, marked as no answer
    page.goto("/?q=自助终端 租赁")
    assert page.locator("#match-note").count() == 0


def test_budget_lines_are_results_with_their_code(page):
    page.goto("/?q=普法宣传")
    first = page.locator("li.result").first
    assert "result-line" in first.get_attribute("class")
    assert first.locator(".result-title a").get_attribute("href") == "/code/2040605?scheme=functional"
    assert "2040605" in first.locator(".meta").inner_text()
