"""Real documents, nobody on the project wrote them, through the liblouis engine to BRF, PEF and
Unicode braille; every page of every output is checked.

The corpus is ``realdocs/``: HTML manuals, Markdown READMEs and NEWS files and plain-text
changelogs and FAQs shipped in Debian packages (``realdocs/SOURCES.md`` says where each came
from and under which licence), kept byte for byte as shipped. Four more documents are built from
some of them when the tests run (``realdocs_build.py``): two Word documents made with python-docx
from Markdown files and two EPUBs zipped by hand from an HTML manual and a Markdown file. Each
document is rendered once per format (``render``, default 40 x 25 options) and the results are
kept for the module.

Checks, per document (the test id names the file):

* **renders** — each format finishes without an error, and every warning names the file.
* **BRF** — only the 64 North American braille ASCII characters (space to underscore), CRLF line
  ends and form feeds between pages (none at the end); every page at most 25 lines, every line at
  most 40 characters.
* **Unicode** — only six-dot cells U+2800-U+283F (blank cells for spaces) and newlines: no
  eight-dot cell U+2840-U+28FF (which is how liblouis's escapes such as ``\\x0416`` for
  characters it has no sign for show), no ASCII letters, no other character.
* **PEF** — valid against the RELAX NG schema the project ships (``validate_pef``), and its pages
  are the BRF's pages, row for row (BRF ASCII read back as cells with ``from_brf``).
* **divisions** — no token is cut between two braille lines without its sign. The rows of the BRF
  (braille page numbers, print page numbers and print page change indicators taken off) are
  read token by token against the engine's braille for the print — the prepared lines
  translated with liblouis as ``render`` translates them, in the order the layout sets them:

  - a row token is the next print token; or, when it ends its row, the first part of it: with
    dot 5 (``"``) or a hyphen (``-``) after it that the layout added, or up to a print hyphen — a
    **division**, whose remaining parts are on the following rows — or with no sign at all, a
    token **cut without its sign** (a failure, shown as the two rows);
  - a divided token whose parts are not the print token's cells is checked as the brief for this
    suite asks, allowing for a layout that contracts the parts of a divided word otherwise than
    the whole word: its parts are joined (rows holding nothing but one part ending in a sign are
    followed), the signs the layout added taken off, and liblouis's back-translation of the
    joined cells (lower case, spaces removed) must equal the back-translation of the print
    token's braille or occur in the print; otherwise its **parts do not rejoin** (a failure).

  Because the reading is in order, a part is matched to the one print token it belongs to: a
  line of ``=`` cut in two is not mistaken for two shorter lines of ``=`` found elsewhere.
  Across the suite at least one division closed by dot 5 and one at a hyphen must be found and
  verified (``test_the_suite_divides_long_tokens``; the corpus has tokens of up to 138 cells:
  URLs, paths, option lists, rules), so the check cannot pass for want of material.
* **rows hold the print's braille in order** — the same reading finds no row token that is not
  the print's next token (cells lost, repeated or changed by the layout) and no print token left
  over at the end.
* **table cells** (documents with tables: HTML, Markdown with GFM or HTML tables, the built DOCX
  and EPUB) — every non-empty cell's text is in the braille. Cells are read from the source with
  lxml (Markdown rendered by markdown-it first, DOCX with python-docx, the EPUB's spine documents
  as XHTML), leaving out what the HTML reader drops by design (script, style, nav and the like,
  hidden elements). A cell is split into segments at ``<br>`` and block boundaries; a segment's
  words (whitespace-separated, outer punctuation stripped, at least one letter or digit) must be
  found, in order, in one block of the Unicode output (a run of non-blank lines: in the listed
  table format a row is one block, its cells' forced line breaks lines of it, and no word is
  divided). Rows are looked for in document order, each from the block where the row before
  it was found, all of a row's segments in one block, so a cell is not "found" in an unrelated
  line (a version number in a heading); a row not found whole has its segments looked for one
  by one. Heading rows, which the listed format repeats before each entry, are looked for from
  the table's first row on.

  Why not back-translate the output and search for the print words? Exact back-translation of
  grade 2 is ambiguous (``⠒`` reads as "cc" or ":" and ``⠆`` as "be" or ";", ``⠐⠕`` inside a
  URL reads as "one"), so that check would fail cells that are there. The robust option is used
  instead: each word is translated alone with liblouis, in grade 2 and in grade 1 (code and
  other uncontracted text), and its cells must appear in the output block, compared without
  capital and grade 1 indicators (dots 6 and 5-6, whose presence depends on the context the word
  is in) — emphasis indicators sit outside a word's cells and do not matter. Only when a segment
  is not found that way is the block back-translated (lower case, letters and digits only) and
  the segment's words looked for in it in order, so a word whose braille depends on its
  neighbours is not reported missing when it is there. A cell is reported only when both fail.
  Words with letters outside Latin script (the layout transcribes those) are left out of the
  search and counted.

Each check asserts that it examined something (pages, cells, line breaks, table cells), so none
passes vacuously, and the last tests show each check catching its fault in a damaged copy of a
real output (a dot 5 removed, a cell lost before a sign, a table row left out, bad BRF and
Unicode). Failures are reported, never marked xfail: the layout team fixes them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from lxml import etree

from braillejobs.formats import FORMATS, RenderOptions, prepare, render
from braillejobs.formats.brf import NABCC, from_brf, to_brf
from braillejobs.formats.layout import number_cells
from braillejobs.formats.pef import PEF_NS, validate_pef
from braillejobs.translate.registry import get_engine
from braillejobs.translate.louis_engine import load_louis

from tests.formats.helpers import brf_pages
from tests.formats.realdocs_build import BUILT, REALDOCS, build

TABLE = "en-ueb-g2.ctb"
WIDTH, LENGTH = 40, 25
BRF_CHARS = frozenset(chr(c) for c in range(0x20, 0x60))  # North American braille ASCII
FILES = sorted(p.name for p in REALDOCS.iterdir()
               if p.suffix in (".html", ".md", ".txt") and p.name != "SOURCES.md")
DOCUMENTS = FILES + sorted(BUILT)
# the documents with tables (test_table_documents_are_the_ones_listed keeps this list honest)
TABLE_DOCUMENTS = [
    "bc_bc.html", "ninja-build_manual.html", "nodejs-doc_CHANGELOG.md", "nodejs-doc_intl.html",
    "nodejs-doc_url.docx", "nodejs-doc_url.html", "nodejs-doc_url.md", "rsync_NEWS.docx",
    "rsync_NEWS.md", "time_time.html", "xtrans-dev_xtrans.epub", "xtrans-dev_xtrans.html",
]
SIGNS = ('"', "-")  # BRF for dot 5 (line continuation indicator) and dots 3-6 (hyphen)
# what the HTML reader drops by design: its cells are not expected in the braille
DROPPED = {"script", "style", "nav", "template", "head", "noscript", "iframe", "object", "embed",
           "svg", "math", "button", "select", "input", "textarea", "map", "audio", "video"}
BLOCK_TAGS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "figure",
              "figcaption", "address", "blockquote", "pre", "ul", "ol", "li", "dl", "dt", "dd",
              "table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th", "h1", "h2", "h3",
              "h4", "h5", "h6", "hr", "br", "details", "summary"}


def kind(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def back_translate(cells: str) -> str:
    louis = load_louis()
    return louis.backTranslateString([TABLE], cells, mode=louis.ucBrl)


def squeeze(text: str) -> str:
    """Lower case, no whitespace: how back-translations and print are compared."""
    return re.sub(r"\s+", "", text.lower())


# --- the corpus, rendered once ------------------------------------------------------------------

@dataclass
class Junctions:
    """What the division check found in one document's BRF."""

    tokens: int = 0  # row tokens read against the print's braille
    line_ends: int = 0  # line breaks between two non-blank rows
    divisions: list = field(default_factory=list)  # (how, signs, parts)
    wrong: list = field(default_factory=list)  # parts of a divided token that do not rejoin
    cut: list = field(default_factory=list)  # (row, next row): a token cut without its sign
    astray: list = field(default_factory=list)  # (row, token, expected): not the print's braille
    unread: list = field(default_factory=list)  # print tokens left when the rows ran out


class Document:
    def __init__(self, name: str, engine) -> None:
        self.name = name
        self.engine = engine
        self.built = build(name) if name in BUILT else None
        self.data = self.built.data if self.built else (REALDOCS / name).read_bytes()
        self._outputs: dict[str, object] = {}

    def output(self, fmt: str):
        """``render``'s result for ``fmt``; an exception it raised is raised again."""
        if fmt not in self._outputs:
            try:
                self._outputs[fmt] = render(self.data, self.name, self.engine,
                                            RenderOptions(format=fmt, cells_per_line=WIDTH,
                                                          lines_per_page=LENGTH))
            except Exception as exc:  # kept, so that every check reports it
                self._outputs[fmt] = exc
        out = self._outputs[fmt]
        if isinstance(out, Exception):
            raise out
        return out

    @cached_property
    def prepared(self):
        return prepare(self.data, self.name, RenderOptions(format="brf"))

    @cached_property
    def print_braille(self) -> list[str]:
        """The engine's braille for each prepared line, as BRF ASCII (non-braille as blanks)."""
        prep = self.prepared
        return [to_brf(t.braille) for t in self.engine.translate_lines(prep.lines, prep.typeforms)]

    @cached_property
    def unicode_lines(self) -> list[str]:
        return self.output("unicode").content.decode("utf-8").split("\n")

    @cached_property
    def junctions(self) -> Junctions:
        return find_junctions(self)

    @cached_property
    def cells(self) -> list:
        return table_segments(self.name, self.data)


@pytest.fixture(scope="module")
def corpus(engine):
    docs: dict[str, Document] = {}

    def get(name: str) -> Document:
        if name not in docs:
            docs[name] = Document(name, engine)
        return docs[name]

    return get


def test_corpus_is_varied():
    assert len(FILES) >= 15
    kinds = {kind(n) for n in DOCUMENTS}
    assert {"html", "md", "txt", "docx", "epub"} <= kinds
    assert sum(kind(n) == "docx" for n in DOCUMENTS) >= 2
    assert sum(kind(n) == "epub" for n in DOCUMENTS) >= 2
    sizes = [(REALDOCS / n).stat().st_size for n in FILES]
    assert sum(s >= 100_000 for s in sizes) >= 3  # a few large ones
    assert sum(sizes) + (REALDOCS / "SOURCES.md").stat().st_size < 3_000_000
    sources = (REALDOCS / "SOURCES.md").read_text("utf-8")
    assert all(f"`{n}`" in sources for n in FILES), "every file is in SOURCES.md"
    assert all(any(ord(c) > 0x2000 for c in (REALDOCS / n).read_text("utf-8"))
               for n in ("dbus_NEWS.txt", "nodejs-doc_punycode.md",
                         "iso-codes_CHANGELOG-PRE-4.0.md"))


def test_nabcc_is_the_64_ascii_braille_characters():
    assert set(NABCC) == BRF_CHARS and len(NABCC) == 64


# --- renders ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DOCUMENTS)
def test_renders_and_warnings_name_the_file(corpus, name):
    doc = corpus(name)
    for fmt in FORMATS:
        out = doc.output(fmt)
        assert out.content, f"{name}: empty {fmt} output"
        unnamed = [w for w in out.warnings if name not in w]
        assert not unnamed, f"{name} ({fmt}): warnings that do not name the file: {unnamed[:3]}"


# --- BRF ----------------------------------------------------------------------------------------

def brf_problems(content: bytes) -> list[str]:
    """What is wrong with a BRF file: characters, line ends, form feeds, page and line sizes."""
    text = content.decode("latin-1")
    problems = []
    stray = sorted(set(text) - BRF_CHARS - {"\r", "\n", "\f"})
    if stray:
        where = [(n, line) for n, line in enumerate(text.splitlines(), 1)
                 if any(c in line for c in stray)]
        problems.append(f"characters outside NA braille ASCII {stray!r}, e.g. line {where[:2]}")
    if re.search("\r(?!\n)|(?<!\r)\n", text):
        problems.append("a line end that is not CRLF")
    if text.endswith("\f"):
        problems.append("a form feed after the last page")
    for n, page in enumerate(text.split("\f"), 1):
        if not page.endswith("\r\n"):
            problems.append(f"page {n} does not end with CRLF before the form feed")
            continue
        lines = page[:-2].split("\r\n")
        if len(lines) > LENGTH:
            problems.append(f"page {n}: {len(lines)} lines > {LENGTH}")
        for k, line in enumerate(lines, 1):
            if len(line) > WIDTH:
                problems.append(f"page {n} line {k}: {len(line)} characters > {WIDTH}: {line!r}")
    return problems


@pytest.mark.parametrize("name", DOCUMENTS)
def test_brf_pages_lines_and_characters(corpus, name):
    content = corpus(name).output("brf").content
    pages = content.split(b"\f")
    assert any(p.strip() for p in pages), f"{name}: no braille"
    problems = brf_problems(content)
    assert not problems, f"{name}: {len(problems)} problems: " + "; ".join(problems[:5])
    assert len(brf_pages(content)) == len(pages)  # the project's reading of the file agrees


# --- Unicode ------------------------------------------------------------------------------------

def unicode_problems(text: str) -> list[str]:
    """Characters other than six-dot cells and newlines in a Unicode braille text, by kind, with
    an example (its neighbourhood as BRF and as it is)."""
    eight_dot, letters, other = [], [], []
    for n, line in enumerate(text.split("\n"), 1):
        for c in set(line):
            if "\u2800" <= c <= "\u283f":
                continue
            bucket = eight_dot if "\u2840" <= c <= "\u28ff" else \
                letters if c.isascii() and c.isalpha() else other
            bucket.append((n, c, line))
    problems = []
    for label, found in (("eight-dot cells (liblouis escapes)", eight_dot),
                         ("ASCII letters", letters), ("other characters", other)):
        if found:
            chars = sorted({c for _, c, _ in found})
            lines = sorted({n for n, _, _ in found})
            n, c, line = found[0]
            at = line.index(c)
            problems.append(f"{label} {''.join(chars[:12])!r} on {len(lines)} lines, e.g. line "
                            f"{n}: {to_brf(line[max(0, at - 20):at + 20])!r} (as BRF) / "
                            f"{line[max(0, at - 10):at + 10]!r}")
    return problems


@pytest.mark.parametrize("name", DOCUMENTS)
def test_unicode_is_six_dot_cells_only(corpus, name):
    text = corpus(name).output("unicode").content.decode("utf-8")
    cells = sum(1 for c in text if "\u2800" <= c <= "\u283f")
    assert cells > 100, f"{name}: hardly any braille ({cells} cells)"
    problems = unicode_problems(text)
    assert not problems, f"{name}: " + "; ".join(problems)


# --- PEF ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DOCUMENTS)
def test_pef_is_valid_and_matches_the_brf(corpus, name):
    doc = corpus(name)
    pef = doc.output("pef").content
    problems = validate_pef(pef)
    assert problems == [], f"{name}: PEF not valid: {problems[:5]}"
    root = etree.fromstring(pef)
    pef_pages = [[(row.text or "").rstrip("\u2800") for row in page.iterfind(f"{{{PEF_NS}}}row")]
                 for page in root.iter(f"{{{PEF_NS}}}page")]
    brf = [[from_brf(line).rstrip("\u2800") for line in page]
           for page in brf_pages(doc.output("brf").content)]
    assert pef_pages and any(any(r for r in page) for page in pef_pages)
    assert len(pef_pages) == len(brf), f"{name}: {len(pef_pages)} PEF pages, {len(brf)} BRF"
    for n, (p, b) in enumerate(zip(pef_pages, brf), 1):
        if p != b:
            k = next((k for k, (x, y) in enumerate(zip(p, b)) if x != y), min(len(p), len(b)))
            pef_row = to_brf(p[k]) if k < len(p) else None
            brf_row = to_brf(b[k]) if k < len(b) else None
            pytest.fail(f"{name}: page {n} differs at row {k + 1} ({len(p)} PEF rows, {len(b)} "
                        f"BRF rows): PEF {pef_row!r} / BRF {brf_row!r}")


# --- divisions ----------------------------------------------------------------------------------

def text_rows(doc: Document) -> list[str]:
    """The BRF's rows in reading order, page numbers and print page change indicators removed."""
    labels = {to_brf(number_cells(u.page or "")) for u in (doc.prepared.units or [])
              if u.role == "page"}
    label = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True) if x)
    rows: list[str] = []
    for n, page in enumerate(brf_pages(doc.output("brf").content), 1):
        page = list(page)
        number = to_brf(number_cells(str(n)))
        if page and (page[-1] == number or page[-1].endswith("   " + number)):
            page[-1] = page[-1][:-len(number)].rstrip(" ")
        if label and page:
            # the print page number on the first line (a continued page has letters before it)
            m = re.fullmatch(rf"(?:(.*?) {{3,}}| *)[A-Z]*(?:{label})", page[0])
            if m:
                page[0] = (m.group(1) or "").rstrip(" ")
        for row in page:
            if label and re.fullmatch(rf"-{{3,}}(?:{label})", row):
                continue  # a print page change indicator
            rows.append(row.rstrip(" "))
    return rows


def print_tokens(doc: Document) -> list[str]:
    """The tokens of the engine's braille for the print, in the order the layout sets the lines
    (its units: a transcriber's note made at the end of the reading is set first)."""
    units = doc.prepared.units
    order = [u.line for u in units if u.line is not None] if units is not None else \
        range(len(doc.print_braille))
    return [t for n in order for t in doc.print_braille[n].split()]


def find_junctions(doc: Document) -> Junctions:
    """Read the BRF's row tokens against the print's braille tokens, in order.

    A row token is the next print token, or, when it ends its row, the first part of it: the
    part and its sign (dot 5 or a hyphen the layout added) or the part up to a print hyphen (a
    division: the next rows hold the rest), or the part with no sign at all (a token cut). A
    divided token whose parts are not the print token's cells is accepted when liblouis's
    back-translation of its parts joined (signs the layout added taken off) is the
    back-translation of the print token, or occurs in the print; otherwise its parts do not
    rejoin. A token that is none of these is astray (lost, changed or extra cells); the reading
    resumes at the next print token equal to the row token that follows."""
    rows = text_rows(doc)
    tokens = print_tokens(doc)
    found = Junctions()
    found.line_ends = sum(1 for a, b in zip(rows, rows[1:]) if a.strip() and b.strip())
    stream = [(r, k, t, k == len(row.split()) - 1)
              for r, row in enumerate(rows) for k, t in enumerate(row.split())]
    found.tokens = len(stream)
    cache: dict[str, str] = {}

    def print_text() -> str:
        if "print" not in cache:
            cache["print"] = squeeze("\n".join(doc.prepared.lines))
        return cache["print"]

    def chain_end(i: int) -> int:
        """The stream index of the last part of the divided token whose first part is ``i``:
        the rows after it that hold one token ending in a sign are parts, and the first token
        of the row after them is the last."""
        r = stream[i][0]
        j = i + 1
        while j < len(stream) and stream[j][0] == r + 1:
            row_tokens = rows[r + 1].split()
            if len(row_tokens) == 1 and row_tokens[0].endswith(SIGNS) and \
                    j + 1 < len(stream) and stream[j + 1][0] == r + 2:
                r += 1
                j += 1
                continue
            return j
        return i  # the next row is blank or the rows ran out: no second part

    def rejoins_by_back_translation(parts: list[str], expected: str) -> bool:
        want = squeeze(back_translate(from_brf(expected)))
        for joined in {"".join(p[:-1] for p in parts[:-1]) + parts[-1],
                       "".join(p[:-1] if p.endswith('"') else p for p in parts[:-1]) + parts[-1]}:
            back = squeeze(back_translate(from_brf(joined)))
            if back and (back == want or back in print_text()):
                return True
        return False

    p = 0
    rest = None  # the cells of tokens[p] still to come, while a divided token is read
    start = None  # stream index of the first part of that token
    signs: list = []
    i = 0
    while i < len(stream):
        r, _k, t, last = stream[i]
        if p >= len(tokens):
            found.astray.append((rows[r], t, None))
            i += 1
            continue
        cur = rest if rest is not None else tokens[p]
        if t == cur:
            if rest is not None and all(how != "none" for how, _ in signs):
                parts = [x[2] for x in stream[start:i + 1]]
                found.divisions.append(("exact", signs, parts))
            p, rest, start, signs = p + 1, None, None, []
            i += 1
            continue
        if last and len(t) < len(cur):
            step = None
            if t.endswith("-") and cur.startswith(t):
                step = (len(t), ("kept", "-"))
            elif t.endswith(SIGNS) and len(t) > 1 and cur.startswith(t[:-1]):
                step = (len(t) - 1, ("added", t[-1]))
            elif cur.startswith(t):
                step = (len(t), ("none", ""))
                nxt = rows[r + 1] if r + 1 < len(rows) else ""
                found.cut.append((rows[r], nxt))
            if step is not None:
                if start is None:
                    start = i
                rest = cur[step[0]:]
                signs = signs + [step[1]]
                i += 1
                continue
        # no exact reading: a divided token whose parts differ from the print token's cells?
        first = start if start is not None else (i if last and t.endswith(SIGNS) else None)
        if first is not None:
            end = chain_end(first)
            parts = [x[2] for x in stream[first:end + 1]]
            if end > first and rejoins_by_back_translation(parts, tokens[p]):
                found.divisions.append(("back-translation",
                                        [("added", q[-1]) for q in parts[:-1]], parts))
            else:
                found.wrong.append(parts)
            p, rest, start, signs = p + 1, None, None, []
            i = max(end, i) + 1
            continue
        found.astray.append((rows[r], t, cur))
        resume = next((q for q in range(p, min(p + 200, len(tokens))) if tokens[q] == t), None)
        if resume is None:
            i += 1
        else:
            p, rest, start, signs = resume, None, None, []
    found.unread = tokens[p:]
    return found


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_token_cut_without_its_sign(corpus, name):
    found = corpus(name).junctions
    assert found.line_ends > 10 and found.tokens > 100, f"{name}: too little to examine"
    problems = []
    if found.cut:
        problems.append(f"{len(found.cut)} tokens cut without dot 5 or a hyphen, e.g. "
                        + " | ".join(f"{a!r} / {b!r}" for a, b in found.cut[:3]))
    if found.wrong:
        problems.append(f"{len(found.wrong)} divided tokens whose parts do not rejoin into the "
                        "print, e.g. " + " | ".join(repr(p) for p in found.wrong[:3]))
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_rows_hold_the_print_braille_in_order(corpus, name):
    # every token of the pages is the next token of the engine's braille for the print (or a
    # part of it): the layout loses, repeats and changes no cells
    found = corpus(name).junctions
    assert found.tokens > 100
    problems = []
    if found.astray:
        problems.append(f"{len(found.astray)} row tokens that are not the print's next braille "
                        "token (row, token, expected), e.g. " + " | ".join(
                            repr(x) for x in found.astray[:3]))
    if found.unread:
        problems.append(f"{len(found.unread)} print tokens not on any page, e.g. "
                        f"{found.unread[:5]!r}")
    assert not problems, f"{name}: " + "; ".join(problems)


def test_the_suite_divides_long_tokens(corpus):
    # the division check has material: long URLs, paths and numbers divided and verified
    totals: dict[str, int] = {}
    for name in DOCUMENTS:
        for how, signs, _parts in corpus(name).junctions.divisions:
            for added, sign in signs:
                key = f"{added} {sign}"
                totals[key] = totals.get(key, 0) + 1
    assert totals.get('added "', 0) > 0, f"no division closed by dot 5 found: {totals}"
    assert totals.get("added -", 0) + totals.get("kept -", 0) > 0, \
        f"no division at a hyphen found: {totals}"


# --- table cells --------------------------------------------------------------------------------

def _dropped(el) -> bool:
    while el is not None:
        if isinstance(el.tag, str):
            name = etree.QName(el).localname.lower()
            style = re.sub(r"\s+", "", (el.get("style") or "").lower())
            if name in DROPPED or el.get("hidden") is not None or \
                    (el.get("aria-hidden") or "").lower() == "true" or "display:none" in style:
                return True
        el = el.getparent()
    return False


def _segments(cell) -> list[str]:
    parts: list[str] = []

    def walk(el) -> None:
        if el.text:
            parts.append(el.text)
        for child in el:
            if isinstance(child.tag, str):
                name = etree.QName(child).localname.lower()
                if not _dropped(child):
                    block = name in BLOCK_TAGS
                    if block:
                        parts.append("\n")
                    walk(child)
                    if block:
                        parts.append("\n")
            if child.tail:
                parts.append(child.tail)

    walk(cell)
    return [" ".join(s.split()) for s in "".join(parts).split("\n") if s.split()]


@dataclass
class Segment:
    table: int  # tables numbered from 1 in document order
    row: int  # rows numbered from 1 in each table
    text: str
    heading: bool  # in a heading row (thead, or a row of th only)


def _html_cells(roots) -> list[Segment]:
    """The segments of the cells of each table, in document order. A table inside a cell is
    read as part of that cell (as the reader flattens it), not again as a table of its own."""
    out = []
    number = 0
    for root in roots:
        for table in root.iter():
            if not _named(table, "table") or _dropped(table) or _inside_table(table):
                continue
            number += 1
            rows: dict = {}
            for cell in table.iter():
                if (_named(cell, "td") or _named(cell, "th")) and _table_of(cell) is table:
                    tr = cell.getparent()
                    row = rows.setdefault(tr, len(rows) + 1)
                    heading = _named(tr.getparent(), "thead") or all(
                        _named(c, "th") for c in tr if _named(c, "td") or _named(c, "th"))
                    out.extend(Segment(number, row, s, heading) for s in _segments(cell))
    return out


def _named(el, name: str) -> bool:
    return el is not None and isinstance(el.tag, str) and \
        etree.QName(el).localname.lower() == name


def _table_of(el):
    el = el.getparent()
    while el is not None and not _named(el, "table"):
        el = el.getparent()
    return el


def _inside_table(table) -> bool:
    return _table_of(table) is not None


def table_segments(name: str, data: bytes) -> list[Segment]:
    """The segments of every cell of every table in the source document."""
    import lxml.html

    if name.endswith(".html"):
        return _html_cells([lxml.html.document_fromstring(data)])
    if name.endswith(".md"):
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
        rendered = md.render(data.decode("utf-8"))
        page = f"<html><body>{rendered}</body></html>"
        return _html_cells([lxml.html.document_fromstring(page)])
    if name.endswith(".epub"):
        z = zipfile.ZipFile(io.BytesIO(data))
        container = etree.fromstring(z.read("META-INF/container.xml"))
        opf_path = next(e.get("full-path") for e in container.iter() if e.get("full-path"))
        opf = etree.fromstring(z.read(opf_path))
        base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
        hrefs = {e.get("id"): e.get("href") for e in opf.iter("{*}item")}
        spine = [hrefs[e.get("idref")] for e in opf.iter("{*}itemref")]
        return _html_cells([etree.fromstring(z.read(base + href)) for href in spine])
    if name.endswith(".docx"):
        import docx

        out = []
        for number, table in enumerate(docx.Document(io.BytesIO(data)).tables, 1):
            seen = set()  # the cells' elements (kept, so that a merged cell is read once)
            for r, row in enumerate(table.rows, 1):
                runs = [run for cell in row.cells for p in cell.paragraphs for run in p.runs
                        if run.text.strip()]
                heading = r == 1 and bool(runs) and all(run.bold for run in runs)
                for cell in row.cells:
                    if cell._tc in seen:
                        continue
                    seen.add(cell._tc)
                    out.extend(Segment(number, r, " ".join(p.text.split()), heading)
                               for p in cell.paragraphs if p.text.split())
        return out
    return []


_OUTER_PUNCTUATION = "\"'`“”‘’()[]{}<>.,;:!?*_~|"


def _words(segment: str) -> tuple[list[str], int]:
    """The words of a segment to look for, and how many were left out (non-Latin letters)."""
    words, skipped = [], 0
    for raw in segment.split():
        word = raw.strip(_OUTER_PUNCTUATION)
        if not any(c.isalnum() for c in word):
            continue
        if any(c.isalpha() and not _latin(c) for c in word):
            skipped += 1
            continue
        words.append(word)
    return words, skipped


def _latin(c: str) -> bool:
    return c.isascii() or unicodedata.name(c, "").startswith("LATIN")


def _no_indicators(brf: str) -> str:
    return brf.replace(",", "").replace(";", "")  # dot 6 (capital), dots 5-6 (grade 1)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _in_order(text: str, options: list[set[str]]) -> bool:
    at = 0
    for alternatives in options:
        ends = [text.find(a, at) + len(a) for a in alternatives if a and text.find(a, at) >= 0]
        if not ends:
            return False
        at = min(ends)
    return True


def missing_cells(doc: Document) -> tuple[list[tuple[int, str]], int, int]:
    """The cell segments not found in the braille ((table, text) each), how many were looked
    for, and how many words were left out of the search.

    The Unicode output is read as blocks (runs of non-blank lines: a table row in the listed
    format is one block, a cell's forced line breaks lines within it). Tables and their rows are
    laid out in document order, so the rows of a table are looked for block by block from the
    block where the row before was found: a row is found where all its segments are in one
    block, so a cell is not "found" in an unrelated line (a version number in a heading) and a
    table's first row is not matched before the table. A row not found whole has each segment
    looked for on its own from there on, and the segments found nowhere are missing. Heading
    rows are repeated before each entry in the listed format: their segments are looked for from
    where the table's first row is, and move nothing on."""
    g1 = get_engine("louis", "en-ueb-g1.ctb")
    rows: dict[tuple[int, int], list] = {}
    skipped = 0
    for seg in doc.cells:
        words, left = _words(seg.text)
        skipped += left
        if words:
            rows.setdefault((seg.table, seg.row), []).append((seg, words))
    vocabulary = sorted({w for row in rows.values() for _, words in row for w in words})
    braille: dict[str, set[str]] = {}
    if vocabulary:
        for engine in (doc.engine, g1):
            for word, t in zip(vocabulary, engine.translate_lines(vocabulary)):
                braille.setdefault(word, set()).add(_no_indicators(to_brf(t.braille)).strip())
    blocks: list[list[int]] = []  # line numbers of each block
    for n, line in enumerate(doc.unicode_lines):
        if not line.strip("\u2800"):
            if blocks and blocks[-1]:
                blocks.append([])
            continue
        if not blocks:
            blocks.append([])
        blocks[-1].append(n)
    blocks = [b for b in blocks if b]
    cells_text = ["\n".join(_no_indicators(to_brf(doc.unicode_lines[n])) for n in b)
                  for b in blocks]
    backs: dict[int, str] = {}

    def back_text(b: int) -> str:
        if b not in backs:
            backs[b] = "\n".join(_plain(back_translate(doc.unicode_lines[n]))
                                  for n in blocks[b])
        return backs[b]

    def has(b: int, words: list[str]) -> bool:
        options = [braille[w] for w in words]
        if any(h in cells_text[b] for h in options[0]) and _in_order(cells_text[b], options):
            return True
        return _in_order(back_text(b), [{_plain(w)} for w in words])

    missing = []
    looked_for = 0
    cursor = 0
    table, table_start = None, 0
    ordered = sorted(rows.items())
    for (number, _row), segments in ordered:
        looked_for += len(segments)
        if number != table:
            table = number
            first_data = next((segs for (t, _), segs in ordered
                               if t == number and not segs[0][0].heading), None)
            if first_data:
                table_start = next((b for b in range(cursor, len(blocks))
                                    if all(has(b, w) for _, w in first_data)), cursor)
            else:
                table_start = cursor
        heading = segments[0][0].heading
        start = table_start if heading else cursor
        if not heading:
            found = next((b for b in range(start, len(blocks))
                          if all(has(b, w) for _, w in segments)), None)
            if found is not None:
                cursor = found
                continue
        for seg, words in segments:
            if not any(has(b, words) for b in range(start, len(blocks))):
                missing.append((seg.table, seg.text))
    return missing, looked_for, skipped


@pytest.mark.parametrize("name", TABLE_DOCUMENTS)
def test_every_table_cell_is_in_the_braille(corpus, name):
    doc = corpus(name)
    assert doc.cells, f"{name}: no table cells found in the source"
    missing, looked_for, _skipped = missing_cells(doc)
    assert looked_for > 0, f"{name}: no cell text to look for"
    assert not missing, (f"{name}: {len(missing)} of {looked_for} cell texts not in the braille, "
                         f"e.g. " + " | ".join(f"table {n}: {s!r}" for n, s in missing[:5]))


def test_table_documents_are_the_ones_listed(corpus):
    with_tables = [name for name in DOCUMENTS if corpus(name).cells]
    assert sorted(with_tables) == sorted(TABLE_DOCUMENTS)


# --- the built documents ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BUILT))
def test_built_documents_are_what_they_claim(corpus, name):
    doc = corpus(name)
    if name.endswith(".docx"):
        import docx

        d = docx.Document(io.BytesIO(doc.data))
        styles = [p.style.name for p in d.paragraphs]
        assert any(s.startswith("Heading") for s in styles)
        assert sum(s == "List Bullet" for s in styles) >= 2
        assert d.tables and len(d.tables[0].rows) >= 2
        cell_paragraphs = [p for t in d.tables for row in t.rows for c in row.cells
                           for p in c.paragraphs]
        runs = [r for p in d.paragraphs + cell_paragraphs for r in p.runs]
        assert any(r.bold for r in runs) and any(r.italic for r in runs)
        assert sum(1 for p in d.paragraphs if p.text.strip() and p.style.name == "Normal") >= 5
    else:
        z = zipfile.ZipFile(io.BytesIO(doc.data))
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip"
        assert "META-INF/container.xml" in z.namelist()
        opf = etree.fromstring(z.read("OEBPS/package.opf"))
        for part in ("metadata", "manifest", "spine"):
            assert opf.find(f"{{*}}{part}") is not None
        assert len(doc.built.chapters) >= 2
        assert len(list(opf.iter("{*}itemref"))) == len(doc.built.chapters)
        pagebreaks = sum(z.read(f"OEBPS/{c}").count(b'epub:type="pagebreak"')
                         for c in doc.built.chapters)
        assert pagebreaks >= 2
        # the print page markers reached the layout
        assert sum(u.role == "page" for u in doc.prepared.units) >= 2


# --- the checks catch what they look for --------------------------------------------------------

def _with_brf(doc: Document, content: bytes) -> Document:
    """``doc`` with another BRF output (the prepared lines and their braille are kept)."""
    clone = Document.__new__(Document)
    clone.__dict__.update({k: v for k, v in doc.__dict__.items() if k != "junctions"})
    clone._outputs = dict(doc._outputs, brf=type("Out", (), {"content": content,
                                                             "warnings": []})())
    return clone


def _division_row(doc: Document, sign: str) -> tuple[list[str], int]:
    """The BRF lines and the index of one whose last token is the first part of a division
    closed by ``sign``."""
    lines = doc.output("brf").content.decode("ascii").replace("\f", "\r\n").split("\r\n")
    for how, signs, parts in doc.junctions.divisions:
        if how == "exact" and signs[0] == ("added", sign) and len(parts[0]) > 4:
            for n, line in enumerate(lines[:-1]):
                if line.rstrip().endswith(" " + parts[0]) and \
                        lines[n + 1].lstrip().startswith(parts[1]):
                    return lines, n
    raise AssertionError(f"{doc.name}: no division closed by {sign!r} to work on")


def _replace_line(content: bytes, old: str, new: str) -> bytes:
    text = content.decode("ascii")
    assert text.count(old + "\r\n") == 1
    return text.replace(old + "\r\n", new + "\r\n").encode("ascii")


def test_a_token_cut_without_its_sign_is_caught(corpus):
    doc = corpus("sed_sedfaq.txt")
    lines, n = _division_row(doc, '"')
    cut = _with_brf(doc, _replace_line(doc.output("brf").content, lines[n], lines[n][:-1]))
    found = find_junctions(cut)
    assert [a for a, _ in found.cut] == [lines[n][:-1].rstrip()]
    assert len(found.divisions) == len(doc.junctions.divisions) - 1


def test_parts_that_do_not_rejoin_are_caught(corpus):
    doc = corpus("sed_sedfaq.txt")
    lines, n = _division_row(doc, '"')
    lost = lines[n][:-2] + '"'  # a cell lost before the sign
    found = find_junctions(_with_brf(doc, _replace_line(doc.output("brf").content, lines[n],
                                                        lost)))
    assert len(found.wrong) == 1 and found.wrong[0][0] == lost.split()[-1]


def test_a_division_contracted_otherwise_is_accepted_by_back_translation(corpus):
    # a layout may braille the parts of a divided word with other contractions than the whole
    # word has: "st" spelled out instead of its sign in "student" still reads as the print
    doc = corpus("sed_sedfaq.txt")
    lines = doc.output("brf").content.decode("ascii").replace("\f", "\r\n").split("\r\n")
    n = next(n for n, line in enumerate(lines)
             if line.endswith('"') and "/UD5T4" in line.split()[-1])
    respelled = lines[n].replace("/UD5T4", "STUD5T4")
    found = find_junctions(_with_brf(doc, _replace_line(doc.output("brf").content, lines[n],
                                                        respelled)))
    assert not found.wrong and not found.cut and not found.astray
    assert ("back-translation", [("added", '"')],
            [respelled.split()[-1], lines[n + 1].split()[0]]) in found.divisions


def test_a_missing_table_cell_is_caught(corpus):
    doc = corpus("rsync_NEWS.md")
    missing, looked_for, _ = missing_cells(doc)
    assert not missing and looked_for > 100
    clone = Document.__new__(Document)
    clone.__dict__.update(doc.__dict__)
    # the row of the release table for 3.4.4 left out of the braille
    row = next(n for n, line in enumerate(doc.unicode_lines)
               if "#JH ,JUN #BJBF" in to_brf(line) and "#C4D4D" in to_brf(line))
    clone.unicode_lines = doc.unicode_lines[:row] + doc.unicode_lines[row + 1:]
    missing, _, _ = missing_cells(clone)
    assert missing == [(1, "08 Jun 2026"), (1, "3.4.4")]


def test_brf_and_unicode_faults_are_caught():
    page = "\r\n".join(["A" * 40] * 25) + "\r\n"
    assert brf_problems((page + "\f" + page).encode()) == []
    assert brf_problems((page + "\f" + page + "\f").encode())
    assert brf_problems(page.replace("A" * 40, "A" * 41, 1).encode())
    assert brf_problems((page + "A\r\n").encode())
    assert brf_problems(page.replace("A", "a", 1).encode())
    assert brf_problems(page.replace("\r\n", "\n", 1).encode())
    assert unicode_problems("⠁⠀⠃\n\n⠉\n") == []
    assert "eight-dot" in unicode_problems("⠁⡖⠃\n")[0]
    assert "ASCII letters" in unicode_problems("⠁x⠃\n")[0]
    assert "other" in unicode_problems("⠁ ⠃\n")[0]
