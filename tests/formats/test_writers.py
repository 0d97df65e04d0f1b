"""Writers: golden Unicode, BRF and PEF outputs for the fixture corpus, and the file-level rules of
each format."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from braillejobs.formats import EXTENSIONS, FORMATS, DocumentError, RenderOptions, render
from braillejobs.formats.brf import NABCC, from_brf, to_brf
from braillejobs.formats.layout import Page
from braillejobs.formats.pef import PEF_NS, split_volumes, validate_pef

from tests.fixtures import make_fixtures
from tests.formats.helpers import FIXTURES, GOLDEN, brf_pages

DOCUMENTS = ("seed-library.docx", "lighthouse.epub", "library-hours.html", "composting.md",
             "cafe-letter-cp1252.txt")


def test_formats_and_extensions():
    assert FORMATS == ("unicode", "brf", "pef")
    assert {f: EXTENSIONS[f] for f in FORMATS} == {"unicode": "txt", "brf": "brf", "pef": "pef"}


def test_fixture_documents_are_reproducible():
    # the committed corpus is what the generator writes
    assert make_fixtures.make_docx() == (FIXTURES / "seed-library.docx").read_bytes()
    assert make_fixtures.make_epub() == (FIXTURES / "lighthouse.epub").read_bytes()


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize("fmt, ext", [("unicode", "txt"), ("brf", "brf"), ("pef", "pef")])
def test_output_matches_golden(engine, name, fmt, ext):
    # regenerate with `python tests/fixtures/make_fixtures.py --golden` and review the diff
    data = (FIXTURES / name).read_bytes()
    out = render(data, name, engine, make_fixtures.golden_options(name, fmt))
    assert out.extension == ext
    assert out.content == (GOLDEN / f"{name}.{ext}").read_bytes()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_golden_brf_file_rules(name):
    content = (GOLDEN / f"{name}.brf").read_bytes()
    assert re.fullmatch(rb"[\x20-\x5f\r\n\f]*", content), "upper-case NA ASCII braille only"
    pages = brf_pages(content)
    for n, lines in enumerate(pages, start=1):
        assert len(lines) == 25 and all(len(line) <= 40 for line in lines)
        assert lines[-1].endswith("#" + "".join("JABCDEFGHI"[int(d)] for d in str(n)))
    assert content.count(b"\f") == len(pages) - 1 and not content.endswith(b"\f")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_golden_pef_is_valid(name):
    content = (GOLDEN / f"{name}.pef").read_bytes()
    assert validate_pef(content) == []


def test_docx_brf_page_one_has_the_bana_shape():
    pages = brf_pages((GOLDEN / "seed-library.docx.brf").read_bytes())
    first = pages[0]
    # the transcriber's note on the table format comes first, in 7-5 (BANA §3.1)
    assert first[0].startswith("      @.<,TABLES") and first[1].startswith("    ")
    title = next(i for i, row in enumerate(first) if row.strip() == ",C>+ = ,SE$ ,LIBR>IES")
    assert first[title - 1] == ""
    assert first[title].strip() == ",C>+ = ,SE$ ,LIBR>IES"  # centred heading (BANA §4.4)
    assert first[title + 1] == ""
    assert first[title + 2].startswith("  ,A SE$")  # paragraph in cell 3 (BANA §1.9)
    assert "    ,GETT+ ,/>T$" in first  # cell-5 heading (BANA §4.5)
    # the cell-7 heading (BANA §4.6) went to page 2 with its text (§4.3)
    assert "      ,: ,SE$S TO ,A3EPT" in pages[1]


def test_epub_brf_print_pages():
    pages = brf_pages((GOLDEN / "lighthouse.epub.brf").read_bytes())
    assert pages[0][0].endswith("#A")  # print page 1 on the first line (BANA §1.11)
    indicators = [line for page in pages for line in page if line.startswith("---")]
    assert indicators == ["-" * 38 + "#B", "-" * 38 + "#D"]
    assert pages[1][0].endswith("#C")  # page 3 began at the top of braille page 2


# --- BRF characters --------------------------------------------------------------------------

def test_nabcc_table_known_cells():
    assert to_brf("⠼⠁⠃") == "#AB" and to_brf("⠠⠮") == ",!" and to_brf("⠀") == " "
    assert to_brf("⠤⠸⠨⠘⠈") == "-_.^@"
    assert len(set(NABCC)) == 64


def test_brf_round_trip_and_lower_case():
    cells = "".join(chr(0x2800 + i) for i in range(64))
    assert from_brf(to_brf(cells)) == cells
    assert from_brf("abc") == from_brf("ABC")


def test_brf_options_width_and_length(engine):
    data = (FIXTURES / "lighthouse.epub").read_bytes()
    out = render(data, "l.epub", engine, RenderOptions(format="brf", cells_per_line=32,
                                                       lines_per_page=20))
    pages = brf_pages(out.content)
    assert all(len(p) == 20 and all(len(line) <= 32 for line in p) for p in pages)


@pytest.mark.parametrize("field, value", [("cells_per_line", 5), ("lines_per_page", 1),
                                          ("volume_sheets", 0), ("format", "pdf")])
def test_bad_options_rejected(engine, field, value):
    options = RenderOptions(**{"format": "brf", field: value})
    with pytest.raises(DocumentError):
        render(b"text", "t.txt", engine, options)


# --- PEF ---------------------------------------------------------------------------------------

def _pef(content: bytes):
    return etree.fromstring(content)


def test_pef_head_metadata(engine):
    out = render((FIXTURES / "lighthouse.epub").read_bytes(), "lighthouse.epub", engine,
                 RenderOptions(format="pef", date="2025-02-03"))
    root = _pef(out.content)
    dc = {el.tag.rsplit("}", 1)[1]: el.text for el in root.find(f"{{{PEF_NS}}}head")[0]}
    assert dc["format"] == "application/x-pef+xml"
    assert dc["title"] == "The Keeper of the Light" and dc["language"] == "en"
    assert dc["date"] == "2025-02-03" and dc["identifier"].startswith("braillejobs:sha256:")
    assert root.get("version") == "2008-1"


def test_pef_title_option_wins(engine):
    out = render(b"Some text.", "t.txt", engine, RenderOptions(format="pef", title="My Title"))
    assert b"<dc:title>My Title</dc:title>" in out.content


def test_pef_volumes_split_at_sheets_simplex_and_duplex(engine):
    text = ("Words of a long document. " * 800).encode()
    for duplex, sheets in ((False, 3), (True, 3), (True, 1)):
        out = render(text, "long.txt", engine, RenderOptions(format="pef", duplex=duplex,
                                                            volume_sheets=sheets))
        assert validate_pef(out.content) == []
        root = _pef(out.content)
        volumes = root.findall(f".//{{{PEF_NS}}}volume")
        per_volume = sheets * (2 if duplex else 1)
        counts = [len(v.findall(f".//{{{PEF_NS}}}page")) for v in volumes]
        assert all(c == per_volume for c in counts[:-1]) and 0 < counts[-1] <= per_volume
        assert all(v.get("duplex") == ("true" if duplex else "false") for v in volumes)
        assert len(volumes) > 1


def test_volume_break_prefers_a_chapter_start():
    pages = [Page([""] * 25, n + 1, None, 0 if n in (3, 18) else None) for n in range(25)]
    volumes = split_volumes(pages, 10, False)
    # 10 sheets a volume. A chapter opening on page index 3 is too early to end volume 1 at (not
    # in the last fifth), so volume 1 ends at the limit; volume 2 ends before the chapter that
    # opens on index 18, within its last fifth.
    assert [len(v) for v in volumes] == [10, 8, 7]
    assert volumes[2][0].opens_with_tier == 0
    # interpoint: a volume break before a chapter keeps the chapter on a front page
    assert [len(v) for v in split_volumes(pages, 5, True)] == [10, 8, 7]


def test_schema_rejects_bad_documents(engine):
    good = render(b"Some text.", "t.txt", engine, RenderOptions(format="pef")).content
    assert validate_pef(good) == []
    bad_cell = good.replace("⠎".encode(), b"s", 1)
    assert validate_pef(bad_cell)
    no_format = re.sub(rb"<dc:format>[^<]*</dc:format>", b"", good)
    assert validate_pef(no_format)
    no_volume_attr = good.replace(b' duplex="false"', b"")
    assert validate_pef(no_volume_attr)
    bad_version = good.replace(b'version="2008-1"', b'version="2010"')
    assert validate_pef(bad_version)


def test_size_checks_beyond_the_schema(engine):
    good = render(b"Some text.", "t.txt", engine, RenderOptions(format="pef")).content
    too_narrow = good.replace(b'cols="40"', b'cols="3"')
    assert any("cells >" in p for p in validate_pef(too_narrow))
    too_short = good.replace(b'rows="25"', b'rows="4"')
    assert any("rows >" in p for p in validate_pef(too_short))


# --- Unicode -----------------------------------------------------------------------------------

def test_unicode_one_block_a_line(engine):
    out = render(b"# Head\n\nFirst para.\n\nSecond  \nline.\n", "u.md", engine,
                 RenderOptions(format="unicode"))
    text = out.content.decode("utf-8")
    assert text == "⠠⠓⠂⠙\n\n⠠⠋⠌⠀⠏⠜⠁⠲\n\n⠠⠎⠑⠉⠕⠝⠙\n⠇⠔⠑⠲\n"
    assert out.chars == len("Head") + len("First para.") + len("Second") + len("line.")
    assert out.chars_by_engine["louis"] == out.chars


def test_unicode_print_page_change_line(engine):
    out = render(b"<p>one</p><span role='doc-pagebreak' aria-label='2'></span><p>two</p>",
                 "p.html", engine, RenderOptions(format="unicode", cells_per_line=12))
    lines = out.content.decode("utf-8").split("\n")
    assert "⠤" * 10 + "⠼⠃" in lines


def test_finish_accepts_a_prepared_without_plan(engine):
    # a Prepared built by hand (lines only) is laid out one paragraph per line
    from braillejobs.formats import Prepared, finish

    prepared = Prepared("hand.txt", RenderOptions(format="brf"), ["first line", "second"])
    out = finish(prepared, engine.translate_lines(prepared.lines))
    pages = brf_pages(out.content)
    assert pages[0][0] == "  F/ L9E" and pages[0][1] == "  SECOND"


def test_translation_count_must_match(engine):
    from braillejobs.formats import Prepared, finish

    prepared = Prepared("hand.txt", RenderOptions(format="brf"), ["a", "b"])
    with pytest.raises(ValueError):
        finish(prepared, engine.translate_lines(["a"]))


@pytest.mark.parametrize("name", ["UPPER.DOCX", "page.htm", "noext"])
def test_extensions_case_and_variants(engine, name):
    data = (FIXTURES / "seed-library.docx").read_bytes() if name.endswith("DOCX") else \
        b"<p>Hello</p>" if name.endswith("htm") else b"Hello"
    out = render(data, name, engine, RenderOptions(format="unicode"))
    assert out.content.strip()


def test_pef_metadata_is_sanitised(engine):
    html = b'<html lang="en_GB"><head><title>Bad\x0b title</title></head><body><p>x</p></body></html>'
    out = render(html, "m.html", engine, RenderOptions(format="pef"))
    assert validate_pef(out.content) == []
    assert b"<dc:language>en-GB</dc:language>" in out.content
    assert b"<dc:title>Bad title</dc:title>" in out.content
    out = render(b'<html lang="!!"><body><p>x</p></body></html>', "m.html", engine,
                 RenderOptions(format="pef"))
    assert b"<dc:language>en</dc:language>" in out.content


@pytest.mark.parametrize("fmt", ["brf", "pef", "unicode"])
def test_stray_characters_from_an_engine_are_blanked_with_a_warning(fmt):
    from braillejobs.formats import Prepared, finish
    from braillejobs.translate.engine import LineTranslation

    prepared = Prepared("s.txt", RenderOptions(format=fmt), ["ab cd"])
    out = finish(prepared, [LineTranslation("⠁⠃x⠀⠉\n⠙", {"cnn": 5})])
    assert any("not braille" in w for w in out.warnings)
    if fmt == "pef":
        assert validate_pef(out.content) == []
    elif fmt == "brf":
        assert brf_pages(out.content)[0][0] == "  AB C D"
    else:
        assert out.content.decode("utf-8") == "⠁⠃⠀⠀⠉⠀⠙\n"
