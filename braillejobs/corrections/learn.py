"""Corrections learned from a transcriber's edited braille file.

The braille the system wrote for a document and the transcriber's edited copy are both read as
one stream of braille words: page furniture left out (braille and print page numbers at the
right margin of a page's first or last line, print page change indicators), lines joined again
(a word divided at a line's end with a hyphen or the line continuation indicator is one word),
so a file reflowed to another width or paginated otherwise compares word for word. The two
streams are aligned (a longest-matching-blocks diff over the words), and each word the
transcriber changed is paired with the print word it stands for, found by aligning the written
braille with liblouis's translation of the document's print, whose position map ties each
braille word to its print. What surrounds the word (punctuation, capital indicators) is taken
off both sides, and the proposal is the lower-case print with the edited braille, checked as
any correction is (liblouis must read it back as the print).
"""

from __future__ import annotations

import difflib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Sequence

from . import CorrectionError
from .braille import BLANK

HYPHEN = "\u2824"         # dots 3-6: a hyphen (a word divided between syllables ends with it)
CONTINUATION = "\u2810"   # dot 5: the line continuation indicator ends a divided symbol run
CAPITAL = "\u2820"
_DIGIT_CELLS = "\u2801\u2803\u2809\u2819\u2811\u280b\u281b\u2813\u280a\u281a"
_LETTER_CELLS = "\u2801-\u283f"
# a page number at the right margin: a continuation letter or two, the numeric indicator and
# digits (the grade 1 indicator and letters may follow: 12a), after at least three blank cells
_LABEL = (f"[\u2801-\u281d]{{0,2}}\u283c[{_DIGIT_CELLS}]+"
          f"(?:\u2830?[{_LETTER_CELLS}]{{1,3}})?")
_PAGE_NUMBER = re.compile(f"(?:^|{BLANK}{{3,}}){_LABEL}$")
# a print page change indicator: unspaced dots 3-6 up to the new print page number
_PAGE_CHANGE = re.compile(f"{HYPHEN}{{4,}}{BLANK}*(?:{_LABEL})?")
MAX_PHRASE_WORDS = 4      # the most words of one proposed phrase


@dataclass
class Word:
    """One braille word of a file: its cells (as read, a division's join mark kept out) and
    where it starts (page, row, both from 1) for the user."""
    cells: str
    page: int
    row: int
    joined_hyphen: int | None = None   # index of a hyphen that ended a line inside the word

    @property
    def key(self) -> str:
        """What two files' words are compared by: hyphens aside (a word divided in one file
        and not in the other, at a syllable or at its own hyphen, compares equal)."""
        return self.cells.replace(HYPHEN, "")


@dataclass
class PrintWord:
    text: str              # the print word, as in the document (punctuation included)
    cells: str             # liblouis's braille for it (one braille word)
    prefix: str            # the cells of its leading punctuation
    suffix: str            # the cells of its trailing punctuation
    core: str              # the print without that punctuation
    line: int              # the document's line it is on (0-based)


@dataclass
class Proposal:
    print_text: str        # lower case, as a correction stores it
    written: str           # the braille the system wrote (core, no capital indicators)
    edited: str            # the transcriber's braille (core, no capital indicators)
    places: list[tuple[int, int]] = field(default_factory=list)   # (page, row) in the edited file
    refused: str | None = None   # why it cannot be a correction (liblouis reads it otherwise)


@dataclass
class Learned:
    proposals: list[Proposal]
    unpaired: int          # changes with no print word behind them (added or removed text)
    changed_words: int     # words of the edited file that differ from what was written


# ------------------------------------------------------------------------------ reading files
def rows_of(content: bytes, kind: str) -> list[list[str]]:
    """Pages of rows of Unicode braille from a BRF, a Unicode braille text or a PEF file."""
    from ..formats.brf import from_brf

    if kind == "pef":
        try:
            root = ET.fromstring(content)
        except ET.ParseError as exc:
            raise CorrectionError(f"not a readable PEF file ({exc})") from None
        pages = []
        for page in root.iter():
            if page.tag.rsplit("}", 1)[-1] == "page":
                pages.append([(row.text or "").replace(" ", BLANK) for row in page.iter()
                              if row.tag.rsplit("}", 1)[-1] == "row"])
        return pages
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise CorrectionError("neither BRF (ASCII) nor Unicode braille text") from None
    pages = []
    for page in text.replace("\r\n", "\n").replace("\r", "\n").split("\f"):
        rows = []
        for row in page.split("\n"):
            if any(0x2800 <= ord(c) <= 0x28FF for c in row):
                cells = row.replace(" ", BLANK)
                wrong = {c for c in cells if not 0x2800 <= ord(c) <= 0x283F}
                if wrong:
                    raise CorrectionError("mixes braille with other characters: "
                                          + ", ".join(repr(c) for c in sorted(wrong)[:5]))
                rows.append(cells.rstrip(BLANK))
            else:
                cells = from_brf(row.upper().replace("\t", " "))
                bad = sorted({c for c in cells if not 0x2800 <= ord(c) <= 0x283F})
                if bad:
                    raise CorrectionError("not BRF (ASCII braille): "
                                          + ", ".join(repr(c) for c in bad[:5]))
                rows.append(cells.rstrip(BLANK))
        pages.append(rows)
    return pages


def words_of(pages: Sequence[Sequence[str]]) -> list[Word]:
    """The braille words of a file, page furniture left out and divided words joined."""
    out: list[Word] = []
    pending: Word | None = None          # a word divided at the end of the last row
    for p, rows in enumerate(pages, 1):
        last = len(rows) - 1
        while last >= 0 and not rows[last]:
            last -= 1
        for r, row in enumerate(rows):
            if _PAGE_CHANGE.fullmatch(row):
                continue
            if r in (0, last):
                row = _PAGE_NUMBER.sub("", row)
            if not row.strip(BLANK):
                continue
            parts = [w for w in row.split(BLANK) if w]
            for i, cells in enumerate(parts):
                if pending is not None and i == 0:
                    pending.cells += cells
                    word = pending
                    pending = None
                else:
                    if pending is not None:
                        out.append(pending)
                        pending = None
                    word = Word(cells, p, r + 1)
                if i == len(parts) - 1 and not row.endswith(BLANK) and len(word.cells) > 1 \
                        and word.cells[-1] in (HYPHEN, CONTINUATION):
                    if word.cells[-1] == CONTINUATION:
                        word.cells = word.cells[:-1]
                    else:
                        word.joined_hyphen = len(word.cells) - 1
                    pending = word
                    continue
                out.append(word)
    if pending is not None:
        out.append(pending)
    return out


# ------------------------------------------------------------------------- the print words
def print_words(lines: Sequence[str], tables: str,
                typeforms: Sequence[Sequence[int] | None] | None = None) -> list[PrintWord]:
    """Each braille word liblouis writes for the document's lines, with the print behind it."""
    from ..translate.louis_engine import line_with_positions

    out: list[PrintWord] = []
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        typeform = typeforms[n] if typeforms is not None else None
        braille, positions = line_with_positions(tables, line, typeform)
        start = 0
        for end in [i for i, c in enumerate(braille) if c == BLANK] + [len(braille)]:
            if end > start:
                out.append(_print_word(line, n, braille[start:end], positions[start:end]))
            start = end + 1
    return out


def _print_word(line: str, n: int, cells: str, positions: Sequence[int]) -> PrintWord:
    lo, hi = min(positions), max(positions)
    while lo > 0 and not line[lo - 1].isspace():
        lo -= 1
    while hi + 1 < len(line) and not line[hi + 1].isspace():
        hi += 1
    text = line[lo:hi + 1]
    a = 0
    while a < len(text) and not text[a].isalnum():
        a += 1
    b = len(text)
    while b > a and not text[b - 1].isalnum():
        b -= 1
    # the cells from the leading and the trailing punctuation, by liblouis's position map
    prefix_n = 0
    while prefix_n < len(cells) and positions[prefix_n] - lo < a:
        prefix_n += 1
    suffix_n = 0
    while suffix_n < len(cells) - prefix_n and positions[len(cells) - 1 - suffix_n] - lo >= b:
        suffix_n += 1
    return PrintWord(text, cells, cells[:prefix_n], cells[len(cells) - suffix_n:],
                     text[a:b], n)


# ------------------------------------------------------------------------------- learning
def learn(written: list[Word], edited: list[Word], prints: list[PrintWord], table: str,
          *, set_name: str | None = None, note: str | None = None,
          author: str | None = None) -> Learned:
    """The corrections the edited words propose, each once with the places it was made."""
    from . import store

    to_print = _pair(written, prints)
    proposals: dict[tuple[str, str], Proposal] = {}
    unpaired = changed = 0
    matcher = difflib.SequenceMatcher(None, [w.key for w in written], [w.key for w in edited],
                                      autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        changed += b1 - b0
        if op != "replace":
            unpaired += max(a1 - a0, b1 - b0)
            continue
        if a1 - a0 == b1 - b0:
            groups = [([i], [j]) for i, j in zip(range(a0, a1), range(b0, b1))]
        elif max(a1 - a0, b1 - b0) <= MAX_PHRASE_WORDS:
            groups = [(list(range(a0, a1)), list(range(b0, b1)))]
        else:
            unpaired += max(a1 - a0, b1 - b0)
            continue
        for mine, theirs in groups:
            found = [to_print.get(i) for i in mine]
            if any(f is None for f in found):
                unpaired += len(theirs)
                continue
            made = _proposal(found, [written[i] for i in mine], [edited[j] for j in theirs])
            if made is None:
                unpaired += len(theirs)
                continue
            text, old, new = made
            key = (text, new)
            item = proposals.get(key)
            if item is None:
                item = proposals[key] = Proposal(text, old, new)
                try:
                    store.propose(text, new, table=table, set_name=set_name, note=note,
                                  author=author, origin="learned")
                except CorrectionError as exc:
                    item.refused = str(exc)
            item.places.append((edited[theirs[0]].page, edited[theirs[0]].row))
    ordered = sorted(proposals.values(), key=lambda p: p.places[0])
    return Learned(ordered, unpaired, changed)


def _pair(written: list[Word], prints: list[PrintWord]) -> dict[int, PrintWord]:
    """Written word index -> the print word behind it (aligned on liblouis's braille; where
    the engine wrote a stretch otherwise, word for word when the counts agree)."""
    out: dict[int, PrintWord] = {}
    keys = [p.cells.replace(HYPHEN, "") for p in prints]
    matcher = difflib.SequenceMatcher(None, [w.key for w in written], keys, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and a1 - a0 == b1 - b0):
            for i, j in zip(range(a0, a1), range(b0, b1)):
                out[i] = prints[j]
    return out


def _proposal(found: list[PrintWord], mine: list[Word], theirs: list[Word]
              ) -> tuple[str, str, str] | None:
    """(print text, written core, edited core) for one changed word or phrase; None when the
    change is not to the words themselves (their punctuation differs, mixed capitals)."""
    first, last = found[0], found[-1]
    old = BLANK.join(w.cells for w in mine)
    new = BLANK.join(_unjoin(w, first if len(found) == 1 else None) for w in theirs)
    prefix, suffix = first.prefix, last.suffix
    for cells in (old, new):
        if not (cells.startswith(prefix) and cells.endswith(suffix)) or \
                len(cells) <= len(prefix) + len(suffix):
            return None
    old = old[len(prefix):len(old) - len(suffix)]
    new = new[len(prefix):len(new) - len(suffix)]
    words = [p.core for p in found]
    if len(found) > 1:   # the phrase's inner punctuation is part of it: keep its full words
        words = [first.text[first.text.index(first.core):]] + [p.text for p in found[1:-1]] \
            + [last.text[:last.text.rindex(last.core) + len(last.core)]]
    text = " ".join(words)
    old, new = _uncapitalise(text, old), _uncapitalise(text, new)
    if old is None or new is None or old == new:
        return None
    return text.lower(), old, new


def _unjoin(word: Word, behind: PrintWord | None) -> str:
    """A divided word's cells without the hyphen its division added (kept where the print
    has a hyphen there)."""
    if word.joined_hyphen is None or (behind is not None and "-" in behind.core):
        return word.cells
    i = word.joined_hyphen
    return word.cells[:i] + word.cells[i + 1:]


def _uncapitalise(text: str, cells: str) -> str | None:
    """The braille without the capital indicators the print's capitals take (a correction
    holds for every capitalisation); None for mixed capitals inside a word (McDonald)."""
    if not any(c.isupper() for c in text):
        return cells
    words, parts = text.split(" "), cells.split(BLANK)
    if len(words) != len(parts):      # not word for word: the whole as one
        words, parts = [text], [cells]
    out = []
    for word, part in zip(words, parts):
        alpha = [c for c in word if c.isalpha()]
        if alpha and all(c.isupper() for c in alpha) and len(alpha) > 1:
            part = part[2:] if part.startswith(CAPITAL * 2) else part
        elif alpha and alpha[0].isupper() and not any(c.isupper() for c in alpha[1:]):
            part = part[1:] if part.startswith(CAPITAL) else part
        elif any(c.isupper() for c in alpha):
            return None
        out.append(part)
    return BLANK.join(out)


# ------------------------------------------------------------------------- from a job
@dataclass
class Written:
    """What the system wrote for one document, and the print it came from."""
    job_id: str
    path: str
    table: str
    corrections_set: str | None
    words: list[Word]
    prints: list[PrintWord]


def written_for(ref: str, document: str | None = None) -> Written:
    """The braille stored for a document: ``ref`` is a job id (or a unique prefix; its one
    finished document, or the one at ``document``, its path in the job) or a document id."""
    from sqlalchemy import select

    from .. import formats
    from ..db.models import DONE, Document, Job, Result
    from ..db.session import session_factory
    from ..jobs import JobError, find_job
    from .active import load

    with session_factory()() as session:
        doc = None
        if ref.isdigit() and document is None:
            doc = session.get(Document, int(ref))
        if doc is not None:
            job = session.get(Job, doc.job_id)
        else:
            job = find_job(session, ref)
            query = select(Document).where(Document.job_id == job.id, Document.status == DONE)
            if document is not None:
                query = query.where(Document.path == document)
            docs = session.scalars(query.order_by(Document.seq).limit(2)).all()
            if not docs:
                raise JobError(f"job {job.id} has no finished document"
                               + (f" at {document!r}" if document else "")
                               + "; `braillejobs status JOB` shows its documents")
            if len(docs) > 1:
                raise JobError(f"job {job.id} has several documents: name one with "
                               "--document PATH (its path as the job shows it)")
            doc = docs[0]
        if doc.status != DONE:
            raise JobError(f"document {doc.id} ({doc.path}) is {doc.status}: there is no "
                           "braille of it to compare")
        result = session.scalars(select(Result).where(Result.document_id == doc.id)).first()
        if result is None:
            raise JobError(f"document {doc.id} ({doc.path}) has no stored braille")
        options = dict(job.options)
        content, source, path = result.content, doc.source or b"", doc.path
    kind = options["format"]
    pages = rows_of(content, "pef" if kind == "pef" else "text")
    render = formats.RenderOptions.of(options)
    prepared = formats.prepare(source, path, render)
    active = load(options["table"], options.get("corrections"))
    tables = active.tables if active is not None else options["table"]
    prints = print_words(prepared.lines, tables, prepared.typeforms)
    return Written(job.id, path, options["table"], options.get("corrections"),
                   words_of(pages), prints)


def edited_words(path) -> list[Word]:
    """The braille words of a transcriber's edited file (BRF, Unicode braille or PEF)."""
    from pathlib import Path

    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CorrectionError(f"{path}: cannot read it ({exc.strerror})") from None
    kind = "pef" if path.suffix.lower() == ".pef" or content.lstrip()[:5] == b"<?xml" \
        else "text"
    try:
        words = words_of(rows_of(content, kind))
    except CorrectionError as exc:
        raise CorrectionError(f"{path}: {exc}") from None
    if not words:
        raise CorrectionError(f"{path}: no braille in it")
    return words
