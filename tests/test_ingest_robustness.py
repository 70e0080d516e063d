"""Ingestion is atomic, idempotent and refuses what it cannot read — through the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import EXTRA, FIXTURES, SEEDS

QX = SEEDS / "dongguan-qingxi-2024-department-budget.txt"
DK = SEEDS / "dongguan-dongkeng-2024-project-performance-targets.txt"
NC = SEEDS / "dongguan-nancheng-2026-performance-targets.txt"
YD = SEEDS / "lanzhou-yongdeng-2024-unit-budget.txt"


def _cut_mid_character(data: bytes, at: int) -> bytes:
    """The first ``at``-odd bytes, ending inside a multi-byte UTF-8 character."""
    while not 0x80 <= data[at] <= 0xBF:  # stop on a continuation byte
        at += 1
    return data[:at]


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api", "--data", str(data), *args],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))


def dump(data: Path) -> list[str]:
    from ingest.store import open_store

    store = open_store(data, read_only=True)
    try:
        return sorted(store.dump("nq").decode("utf-8").splitlines())
    finally:
        store.close()


def parse(path: Path):
    from ingest.parse import parse_file

    return parse_file(path)


def signature(doc) -> list:
    return [(p.name, p.amount.yuan if p.amount else None,
             [(i.level1.label, i.level2.label, i.text, i.annual.raw if i.annual else None) for i in p.indicators])
            for p in doc.projects]


def test_reingest_changes_nothing(fresh_copy):
    before = dump(fresh_copy)
    out = cli(fresh_copy, "ingest", "--no-index", str(SEEDS), str(EXTRA))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("unchanged") == 8 and "added" not in out.stdout
    assert dump(fresh_copy) == before


@pytest.mark.parametrize("name,content,reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n\t\n", "empty file"),
    ("binary.txt", bytes(range(256)) * 40, "binary file"),
    ("latin.txt", "Budget report, no tables here.\n".encode() * 50, "no Chinese text"),
    ("prose.txt", ("本单位认真贯彻落实各项预算管理要求，加强预算执行管理。\n" * 30).encode(), "no budget table"),
    ("truncated-utf8.txt", _cut_mid_character(QX.read_bytes(), 20000), "truncated UTF-8"),
    ("truncated.pdf", (FIXTURES / "pdf" / "shanghai-putuo-justice-bureau-2026-unit-budget.pdf").read_bytes()[:50000], "truncated PDF"),
])
def test_bad_files_are_refused_and_lose_nothing(fresh_copy, tmp_path, name, content, reason):
    bad = tmp_path / name
    bad.write_bytes(content)
    before = dump(fresh_copy)
    out = cli(fresh_copy, "ingest", "--no-index", str(bad))
    assert out.returncode == 1
    assert f"ERROR {bad}: " in out.stderr and reason in out.stderr
    assert dump(fresh_copy) == before


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    data = tmp_path / "data"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01")
    out = cli(data, "ingest", "--no-index", str(bad), str(DK), str(tmp_path / "missing.txt"))
    assert out.returncode == 1
    assert f"ERROR {bad}:" in out.stderr and f"ERROR {tmp_path / 'missing.txt'}: no such file" in out.stderr
    assert "added" in out.stdout and DK.name in out.stdout


def test_a_table_cut_inside_its_indicators_is_skipped_and_strict_refuses_the_document(tmp_path, fresh_copy):
    lines = NC.read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "nancheng-cut.txt"
    # cut right after the last project's indicator heading: that table has no rows
    last_header = max(i for i, ln in enumerate(lines) if ln.startswith("绩效指标\t一级指标"))
    cut.write_text("\n".join(lines[: last_header + 1]) + "\n", encoding="utf-8")
    before = dump(fresh_copy)
    out = cli(fresh_copy, "ingest", "--no-index", "--strict", str(cut))
    assert out.returncode == 1 and "truncated" in out.stderr
    assert dump(fresh_copy) == before
    # by default the cut table is skipped with its reason and the other tables go in
    doc = parse(cut)
    full = parse(NC)
    (skipped,) = doc.issues
    assert "truncated" in skipped.reason and skipped.kind == "ProjectTargetTable"
    assert [p.name for p in doc.projects] == [p.name for p in full.projects][:-1]
    assert doc.department_targets and len(doc.department_targets[0].tasks) == 4


def test_gbk_and_bom_read_like_utf8(tmp_path):
    gbk = tmp_path / "yongdeng-gbk.txt"
    gbk.write_bytes(YD.read_text(encoding="utf-8").encode("gb18030"))
    bom = tmp_path / "yongdeng-bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + YD.read_bytes())
    ref = parse(YD)
    for f in (gbk, bom):
        doc = parse(f)
        assert signature(doc) == signature(ref)
        assert [(t.title, [(ln.code, ln.total) for ln in t.lines]) for t in doc.budget_tables] == \
               [(t.title, [(ln.code, ln.total) for ln in t.lines]) for t in ref.budget_tables]
    assert parse(gbk).encoding == "gb18030"


def test_utf16_with_and_without_byte_order_mark_read_like_utf8(tmp_path):
    text = YD.read_text(encoding="utf-8")
    ref = signature(parse(YD))
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""), ("utf-16-be", b"")):
        f = tmp_path / f"yongdeng-{codec}-{len(bom)}.txt"
        f.write_bytes(bom + text.encode(codec))
        assert signature(parse(f)) == ref, (codec, bom)


def test_a_file_name_that_is_not_utf8_is_ingested_and_printed_safely(tmp_path, fresh_copy):
    folder = tmp_path / "in"
    folder.mkdir()
    good = os.path.join(os.fsencode(folder), b"\xff\xfe-yongdeng.txt")
    with open(good, "wb") as f:
        f.write(YD.read_bytes().replace("永登县政务服务中心".encode(), "永登县测试中心".encode()))
    bad = os.path.join(os.fsencode(folder), b"\xfe-empty.txt")
    open(bad, "wb").close()
    out = cli(fresh_copy, "ingest", "--no-index", str(folder))
    assert out.returncode == 1
    assert "\ufffd-empty.txt: empty file" in out.stderr and "Traceback" not in out.stderr
    assert "added" in out.stdout and "\ufffd\ufffd-yongdeng.txt" in out.stdout
    from ingest.store import open_store

    store = open_store(fresh_copy, read_only=True)
    try:
        names = {r["f"] for r in store.select("SELECT ?f WHERE { ?d a bkg:Document ; bkg:sourceFile ?f }")}
    finally:
        store.close()
    assert "\ufffd\ufffd-yongdeng.txt" in names


def test_limits_on_text_and_pdf_size_refuse_with_the_reason(tmp_path):
    from ingest.errors import DecodeError
    from ingest.text import read_source

    big = tmp_path / "big.txt"
    big.write_bytes(YD.read_bytes() * 8)
    with pytest.raises(DecodeError, match="larger than the limit of 0 MB"):
        read_source(big, max_text_bytes=100_000)
    pdf = FIXTURES / "pdf" / "shanghai-putuo-justice-bureau-2026-unit-budget.pdf"
    with pytest.raises(DecodeError, match="more than the limit of 3"):
        read_source(pdf, max_pages=3)


def _one_cell_per_line(src: Path, dst: Path) -> Path:
    out = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            out.extend(c.strip() for c in line.split("\t") if c.strip())
        else:
            out.append(line)
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")
    return dst


@pytest.mark.parametrize("src", [DK, NC, QX])
def test_one_cell_per_line_reads_like_the_table(src, tmp_path):
    ref, cells = parse(src), parse(_one_cell_per_line(src, tmp_path / src.name))
    assert signature(cells) == signature(ref)
    # coded lines read the same (tables of totals only are not read one cell per line)
    assert [(t.title, [(ln.code, ln.total) for ln in t.lines]) for t in cells.budget_tables if t.lines] == \
           [(t.title, [(ln.code, ln.total) for ln in t.lines]) for t in ref.budget_tables if t.lines]
    assert [len(d.tasks) for d in cells.department_targets] == [len(d.tasks) for d in ref.department_targets]


def test_table_split_across_pages(tmp_path):
    lines = DK.read_text(encoding="utf-8").splitlines()
    # a page break in the middle of the first project's indicator rows: footer, title, heading again
    at = next(i for i, ln in enumerate(lines) if "租赁窗口设备数量" in ln)
    header = next(ln for ln in lines if ln.startswith("绩效指标\t一级指标"))
    split = lines[: at + 1] + ["", "- 3 -", "", "项目绩效目标表（续表）", header] + lines[at + 1 :]
    f = tmp_path / "split.txt"
    f.write_text("\n".join(split) + "\n", encoding="utf-8")
    assert signature(parse(f)) == signature(parse(DK))


def test_budget_table_split_across_pages_is_one_table():
    doc = parse(QX)
    t6 = [t for t in doc.budget_tables if t.number == "6"]
    assert len(t6) == 1 and len(t6[0].lines) == 25
    assert sum(ln.total.yuan for ln in t6[0].lines if len(ln.code) == 3) == t6[0].total.yuan


def test_shenbao_layout_total_vs_annual_funds_and_long_term_targets():
    doc = parse(FIXTURES / "layouts" / "shenbao-2025.txt")
    (p,) = doc.projects
    assert p.amount.yuan == Decimal("1200000.00") and p.amount.unit == "万元"
    assert p.total_funds.yuan == Decimal("3600000.00")
    assert p.overall_goal.startswith("通过三年建设") and p.annual_goal.startswith("2025年完成10个")
    ind = {i.text: i for i in p.indicators}
    assert ind["法律咨询服务人次"].period.raw == "≥9000人次" and ind["法律咨询服务人次"].annual.raw == "≥3000人次"
    assert (ind["单个工作室建设成本"].level1.label, ind["单个工作室建设成本"].level2.label) == ("成本指标", "经济成本指标")
    assert doc.year == 2025 and doc.region.leaf[0] == "普陀区"


def test_pdf_reads_like_its_text_extraction():
    pdf = parse(FIXTURES / "pdf" / "shanghai-putuo-justice-bureau-2026-department-budget.pdf")
    txt = parse(EXTRA / "shanghai-putuo-justice-bureau-2026-department-budget.txt")
    assert pdf.encoding == "pdf" and pdf.unit_name == txt.unit_name and pdf.year == txt.year == 2026

    def lines(doc):
        return {(t.title, ln.code, ln.total.yuan) for t in doc.budget_tables for ln in t.lines if ln.total}

    assert lines(pdf) == lines(txt)


def test_validate_and_check_cli(samples_store_dir, fresh_copy):
    ok = cli(samples_store_dir, "validate")
    assert ok.returncode == 0 and "conforms" in ok.stdout
    report = cli(samples_store_dir, "check")
    assert report.returncode == 0
    # the real discrepancies of the samples are reported, with their lines
    assert "DIFF 收入总计 = 本年收入合计 + 上年结转等: 收支总体情况表" in report.stdout and "lines 68" in report.stdout
    assert "DIFF 合计 = 基本支出 + 项目支出: 2026年预算单位支出预算总表 [2040601]" in report.stdout
    # a project stripped of its amount no longer conforms
    from ingest.store import open_store

    store = open_store(fresh_copy)
    store.ox.update("DELETE { GRAPH ?g { ?p <https://w3id.org/budgetkg/def#amount> ?a } } WHERE { GRAPH ?g { ?p a <https://w3id.org/budgetkg/def#Project> ; <https://w3id.org/budgetkg/def#amount> ?a } FILTER(?a = 432000) }")
    store.close()
    bad = cli(fresh_copy, "validate")
    assert bad.returncode == 1 and "a project has one amount" in bad.stdout


def test_sparql_cli_formats_and_read_only(samples_store_dir, tmp_path):
    q = 'SELECT ?n WHERE { ?p a bkg:Project ; rdfs:label ?n ; bkg:amount ?a FILTER(?a = 432000) }'
    j = cli(samples_store_dir, "sparql", q)
    assert j.returncode == 0 and '"专用设备租赁费支出"' in j.stdout and '"results"' in j.stdout
    c = cli(samples_store_dir, "sparql", q, "--format", "csv")
    assert c.stdout.splitlines()[:2] == ["n", "专用设备租赁费支出"]
    f = tmp_path / "q.rq"
    f.write_text("CONSTRUCT { ?p rdfs:label ?n } WHERE { ?p a bkg:Project ; rdfs:label ?n } LIMIT 2", encoding="utf-8")
    t = cli(samples_store_dir, "sparql", f"@{f}", "--format", "nt")
    assert t.returncode == 0 and len(t.stdout.strip().splitlines()) == 2
    for update in ("INSERT DATA { <x:a> <x:b> <x:c> }", "DROP ALL", "LOAD <http://127.0.0.1:9/x>",
                   "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"):
        r = cli(samples_store_dir, "sparql", update)
        assert r.returncode == 2 and "refused" in r.stderr
    bad = cli(samples_store_dir, "sparql", "SELECT ?x WHERE { ?x ")
    assert bad.returncode == 2 and "malformed" in bad.stderr


def test_export_round_trips(samples_store_dir, tmp_path):
    from rdflib import Dataset, Graph

    nq = tmp_path / "all.nq"
    assert cli(samples_store_dir, "export", "--format", "nq", "-o", str(nq)).returncode == 0
    ds = Dataset()
    ds.parse(nq, format="nquads")
    assert len(list(ds.graphs())) >= 10
    ttl = tmp_path / "all.ttl"
    assert cli(samples_store_dir, "export", "--format", "ttl", "-o", str(ttl)).returncode == 0
    assert len(Graph().parse(ttl)) == len({(s, p, o) for s, p, o, _ in ds.quads((None, None, None, None))})


PDF_DIR = FIXTURES / "pdf"


def documents_dump(data: Path) -> list[str]:
    """The store's quads but the ontology graph's (its blank nodes get fresh ids in every store)."""
    return [q for q in dump(data) if not q.endswith("<https://w3id.org/budgetkg/def> .")]


def test_a_damaged_pdf_among_good_documents_is_the_only_one_refused(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for src in (DK, NC, YD, PDF_DIR / "shanghai-putuo-justice-bureau-2026-department-budget.pdf"):
        (folder / src.name).write_bytes(src.read_bytes())
    # cut short, with an end-of-file marker appended: it passes the %%EOF check and fails in the reader
    bad = folder / "cut.pdf"
    bad.write_bytes((PDF_DIR / "shanghai-putuo-justice-bureau-2026-unit-budget.pdf").read_bytes()[:50000] + b"\n%%EOF\n")
    data = tmp_path / "data"
    out = cli(data, "ingest", "--no-index", "--workers", "2", str(folder))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stdout.count("added ") == 4
    assert out.stderr.splitlines() == [f"ERROR {bad}: unreadable or damaged PDF (PdfminerException: Unexpected EOF)"]
    from ingest.store import open_store

    store = open_store(data, read_only=True)
    try:
        assert len(store.documents()) == 4
    finally:
        store.close()


def test_a_pdf_and_its_text_extraction_are_one_document_never_replaced_back_and_forth(tmp_path):
    pdf = PDF_DIR / "shanghai-putuo-justice-bureau-2026-department-budget.pdf"
    txt = EXTRA / "shanghai-putuo-justice-bureau-2026-department-budget.txt"  # pdftotext of that PDF
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.pdf").write_bytes(pdf.read_bytes())
    (folder / "x.txt").write_bytes(txt.read_bytes())
    data = tmp_path / "data"
    first = cli(data, "ingest", "--no-index", str(folder))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].startswith(f"added     {folder / 'x.pdf'} (")
    skipped = f"skipped   {folder / 'x.txt'}: text extraction of x.pdf, the same document (the PDF is stored)"
    assert first.stdout.splitlines()[1] == skipped
    stored = documents_dump(data)
    # again, and with the text named first: nothing changes
    for args in ([str(folder)], [str(folder / "x.txt"), str(folder / "x.pdf")]):
        again = cli(data, "ingest", "--no-index", *args)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines()[0].startswith(f"unchanged {folder / 'x.pdf'} (")
        assert again.stdout.splitlines()[1] == skipped
        assert documents_dump(data) == stored
    # a text stored alone earlier is replaced by its PDF once, then stays so
    data2 = tmp_path / "data2"
    assert cli(data2, "ingest", "--no-index", str(folder / "x.txt")).returncode == 0
    once = cli(data2, "ingest", "--no-index", str(folder))
    assert once.stdout.splitlines()[0].startswith(f"replaced  {folder / 'x.pdf'} (") and skipped in once.stdout
    assert documents_dump(data2) == stored
    # a text beside a PDF that cannot be read is the document
    (folder / "x.pdf").write_bytes(pdf.read_bytes()[:50000] + b"\n%%EOF\n")
    data3 = tmp_path / "data3"
    out = cli(data3, "ingest", "--no-index", str(folder))
    assert out.returncode == 1 and f"ERROR {folder / 'x.pdf'}: unreadable" in out.stderr
    assert out.stdout.startswith(f"added     {folder / 'x.txt'} (")


def bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose page content is ``inflated`` zero bytes, Flate-compressed (~1/1000 the size)."""
    import zlib

    z = zlib.compressobj(6)
    chunk = bytes(2**20)
    stream = b"".join(z.compress(chunk) for _ in range(inflated // len(chunk))) + z.flush()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


#: the bomb inflates to this; the limit the test sets is far below it
BOMB_INFLATED = 256 * 2**20
BOMB_LIMIT_MB = 32


def test_a_compression_bomb_is_refused_at_the_limit_and_the_others_go_in(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    bomb = folder / "bomb.pdf"
    bomb.write_bytes(bomb_pdf(BOMB_INFLATED))
    assert bomb.stat().st_size < 400_000  # small on disk
    for src in (DK, NC, YD):
        (folder / src.name).write_bytes(src.read_bytes())
    data = tmp_path / "data"
    # the peak memory of the ingest and of the workers it reaped, measured from a process of its own
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    env = dict(os.environ, BUDGETKG_MAX_PDF_INFLATED_MB=str(BOMB_LIMIT_MB))
    out = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "api", "--data", str(data), "ingest",
                          "--no-index", "--workers", "2", str(folder)], capture_output=True, text=True, timeout=300, env=env)
    *errors, peak_kb = out.stderr.strip().splitlines()
    assert out.returncode == 1 and out.stdout.count("added ") == 3
    assert errors == [f"ERROR {bomb}: its streams decompress beyond {BOMB_LIMIT_MB} MB, the limit "
                      "(BUDGETKG_MAX_PDF_INFLATED_MB); a compression bomb, or not a budget disclosure"]
    # nowhere near the 256 MB the bomb inflates to (reading it whole took twice that, or more)
    assert int(peak_kb) < 400 * 1024, f"peak RSS {int(peak_kb) // 1024} MB"
