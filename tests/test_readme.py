"""What the README tells a newcomer to type works.

Every ``budgetkg …`` line of its shell blocks is parsed by the CLI's own parser (a command or an option
that does not exist fails), every file such a line names ships in the repository, and the lines that
only read (``sparql``) run against the samples. ``budgetkg …`` code spans in the text name real
commands and options. Every address of the page map answers on a real server.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import typer.main
from typer.exceptions import TyperException

from api.cli import app
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = typer.main.get_command(app)
#: option values that are written, not read
OUTPUTS = {"output", "data"}


def shell_lines() -> list[str]:
    """``budgetkg`` command lines of the README's shell blocks (environment assignments before them dropped)."""
    lines = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.S | re.M):
        if lang not in ("", "sh", "bash", "shell"):
            continue
        for line in body.splitlines():
            words = line.strip().split(" ")
            while words and re.fullmatch(r"[A-Z_]+=\S+", words[0]):
                words.pop(0)
            if words and words[0] == "budgetkg":
                lines.append(" ".join(words))
    return lines


def code_spans() -> list[str]:
    """``budgetkg …`` code spans outside the fenced blocks (mentions in the text and tables)."""
    prose = re.sub(r"^```.*?^```", "", README, flags=re.S | re.M)
    return re.findall(r"`(budgetkg [^`]+)`", prose)


def split(line: str) -> tuple[list[str], str, list[str]]:
    """Global options, the command, its arguments."""
    args = shlex.split(line, comments=True)[1:]
    global_opts = {o: p for p in CLI.params for o in p.opts}
    head = []
    while args and args[0] in global_opts:
        head += args[:2]
        args = args[2:]
    return head, args[0], args[1:]


def parse(line: str):
    """The command's parsed parameters (the CLI's own parser: an unknown option or command raises)."""
    head, name, rest = split(line)
    ctx = CLI.make_context("budgetkg", [*head, name])
    command = CLI.get_command(ctx, name)
    assert command is not None, f"{line}: no command {name!r}"
    try:
        return command, command.make_context(name, rest, parent=ctx).params
    except TyperException as exc:
        pytest.fail(f"{line}: {exc}")


def named_files(params: dict) -> list[Path]:
    """Files a command line reads: Path arguments and options, and @file query texts."""
    out = []
    for name, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, Path) and name not in OUTPUTS:
                out.append(v)
            elif isinstance(v, str) and v.startswith("@"):
                out.append(Path(v[1:]))
    return out


def test_the_readme_has_command_lines():
    assert len(shell_lines()) >= 15 and len(code_spans()) >= 5


@pytest.mark.parametrize("line", shell_lines())
def test_shell_line_parses_and_names_shipped_files(line):
    _, params = parse(line)
    for f in named_files(params):
        assert (ROOT / f).exists(), f"{line}: {f} is not in the repository"
        if (ROOT / ".git").exists():  # shipped, not just lying in this checkout
            tracked = subprocess.run(["git", "ls-files", "--", str(f)], cwd=ROOT, capture_output=True, text=True).stdout
            assert tracked.strip(), f"{line}: {f} is not committed"


@pytest.mark.parametrize("span", code_spans())
def test_code_span_names_a_real_command_and_options(span):
    head, name, rest = split(span)
    ctx = CLI.make_context("budgetkg", [*head, name])
    command = CLI.get_command(ctx, name)
    assert command is not None, f"{span}: no command {name!r}"
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    unknown = [w for w in rest if w.startswith("-") and w.split("=")[0] not in known]
    assert not unknown, f"{span}: no option {unknown} of `budgetkg {name}`"


@pytest.mark.parametrize("line", [ln for ln in shell_lines() if " sparql " in f"{ln} " and "--store" not in ln])
def test_sparql_lines_run(line, samples_store_dir):
    args = shlex.split(line, comments=True)[1:]
    out = subprocess.run([sys.executable, "-m", "api", "--data", str(samples_store_dir), *args], cwd=ROOT,
                         capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert out.returncode == 0, f"{line}:\n{out.stderr[-2000:]}"
    if out.stdout.startswith("{"):  # SPARQL JSON results
        assert json.loads(out.stdout)["results"]["bindings"], out.stdout[:500]
    else:  # CSV, TSV: a header and rows
        assert len(out.stdout.strip().splitlines()) > 1, out.stdout[:500]


def page_map() -> list[str]:
    """The example addresses of the README's page map (placeholders such as {id} left out)."""
    section = README.split("Pages (", 1)[1].split("\n\n", 2)[1]
    cells = [row.split("|")[1] for row in section.splitlines() if row.startswith("| `")]
    return [a for cell in cells for a in re.findall(r"`(/[^`]*)`", cell) if "{" not in a and "…" not in a]


def test_page_map_lists_the_pages():
    pages = page_map()
    assert {"/", "/codes", "/code/2080104?scheme=functional", "/charts", "/sparql-editor", "/def", "/docs"} <= set(pages)


def test_every_page_of_the_map_answers(protocol_server):
    with httpx.Client(base_url=protocol_server.url, timeout=60, follow_redirects=True,
                      headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}) as http:
        for address in page_map():
            r = http.get(address)
            assert r.status_code == 200, f"{address}: {r.status_code} {r.text[:300]}"
        assert str(http.get("/sparql").url).startswith(protocol_server.url + "/sparql-editor")
