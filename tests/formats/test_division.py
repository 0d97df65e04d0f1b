"""Tokens longer than a braille line: divided only where UEB and BANA allow, with their signs.

Each test lays out real text through the liblouis engine and BRF, then reads the rows back:
every part of a divided token ends with the sign its rule calls for, the parts rejoined are the
braille of the undivided token (so no sign was split and no indicator lost), and liblouis's
back-translation of the rejoined braille is the print.
"""

from __future__ import annotations

import random

import pytest

from braillejobs.formats import RenderOptions, finish, prepare, render
from braillejobs.formats.brf import from_brf
from braillejobs.formats.divide import CONTINUATION, HYPHEN, _syllable_starts
from braillejobs.formats.layout import BLANK
from braillejobs.translate.engine import LineTranslation
from braillejobs.translate.registry import get_engine
from braillejobs.translate.louis_engine import load_louis, translate_with_positions

TABLE = "en-ueb-g2.ctb"
NUMERIC = "\u283c"
CAPITAL = "\u2820"


@pytest.fixture(scope="module")
def engine():
    return get_engine("louis", TABLE)


def rows_of(engine, text: str, width: int = 40) -> list[str]:
    """The text rows of ``text`` laid out as BRF, in Unicode braille, page numbers removed."""
    options = RenderOptions(format="brf", cells_per_line=width)
    content = render(text.encode(), "t.txt", engine, options).content.decode("ascii")
    rows = []
    for page in content.split("\f"):
        lines = page.rstrip("\r\n").split("\r\n")
        lines[-1] = lines[-1].rsplit("   ", 1)[0] if "   " in lines[-1].strip() else ""
        rows += [from_brf(line).rstrip(BLANK) for line in lines]
    assert all(len(row) <= width for row in rows)
    return [row for row in rows if row]


def braille(text: str) -> str:
    return translate_with_positions(TABLE, text)[0]


def back(cells: str) -> str:
    louis = load_louis()
    return louis.backTranslateString([TABLE], cells, mode=louis.ucBrl)


def parts_of(rows: list[str], token: str) -> list[str]:
    """The rows that hold the divided ``token``'s braille, as cells, in order."""
    whole = braille(token)
    for i, row in enumerate(rows):
        last = row.split(BLANK)[-1]
        if whole.startswith(last[:-1]) and len(last) > 2:
            parts = [last]
            for nxt in rows[i + 1:]:
                first = nxt.split(BLANK)[0]
                parts.append(first)
                if whole.endswith(first) or not first.endswith((HYPHEN, CONTINUATION)):
                    break
            return parts
    raise AssertionError(f"{token!r} not found divided in {rows}")


def test_long_number_is_divided_between_digits_with_dot_5():
    # UEB 6.10: a number too long for the line is divided between digits, the first part ending
    # with the line continuation indicator (dot 5); numeric mode continues on the next line, so
    # no numeric indicator begins it.
    engine = get_engine("louis", TABLE)
    number = "".join(str(d % 10) for d in range(1, 46))
    rows = rows_of(engine, f"The number {number} is long.")
    parts = parts_of(rows, number)
    assert len(parts) == 2 and parts[0].endswith(CONTINUATION)
    assert parts[0].startswith(NUMERIC) and not parts[1].startswith(NUMERIC)
    joined = parts[0][:-1] + parts[1]
    assert joined == braille(number) and back(joined) == number
    assert rows[0].endswith(parts[0])  # the first part fills the line the number starts on


def test_number_with_separators_is_divided_after_a_comma(engine):
    # UEB 6.10: where the number has separators, the division follows one.
    number = ",".join(f"{n:03d}" for n in range(101, 116))
    parts = parts_of(rows_of(engine, f"Total {number} units."), number)
    assert all(p.endswith("\u2802" + CONTINUATION) for p in parts[:-1])  # ⠂ comma, then ⠐
    assert "".join(p[:-1] for p in parts[:-1]) + parts[-1] == braille(number)


@pytest.mark.parametrize("word", ["pneumonoultramicroscopicsilicovolcanoconiosis",
                                  "Supercalifragilisticexpialidociousnessandthoughtfulness"])
def test_long_word_is_divided_between_syllables_with_a_hyphen(engine, word):
    # UEB 10.13.1, BANA §1.10: a word is divided between syllables, with a hyphen at the end of
    # each part but the last; the contractions are those of the undivided word.
    parts = parts_of(rows_of(engine, f"A {word} here."), word)
    assert len(parts) >= 2 and all(p.endswith(HYPHEN) for p in parts[:-1])
    joined = "".join(p[:-1] for p in parts[:-1]) + parts[-1]
    assert joined == braille(word) and back(joined).lower() == word.lower()
    syllables = _syllable_starts(word)
    done = 0
    for part in parts[:-1]:
        done += len(back(part[:-1]))
        assert done in syllables, (part, done, sorted(syllables))
    for part in parts[1:]:  # UEB 10.13.6-8: no lower groupsign, ing or final groupsign first
        assert part[0] not in "\u2802\u2806\u2812\u2816\u2836\u282c\u2828\u2830"


def test_capitalised_word_keeps_capitals_word_mode_across_the_division(engine):
    # UEB 8.4: a hyphen inserted to divide a word does not end capitals word mode, so the
    # second part carries no new capitals indicator and the word reads as one capitalised word.
    word = "PNEUMONOULTRAMICROSCOPICSILICOVOLCANOCONIOSIS"
    parts = parts_of(rows_of(engine, f"The word {word} is long."), word)
    assert parts[0].startswith(CAPITAL * 2)
    assert all(not p.startswith(CAPITAL) for p in parts[1:])
    assert "".join(p[:-1] for p in parts[:-1]) + parts[-1] == braille(word)


@pytest.mark.parametrize("address", [
    "https://www.example.org/documentation/user_guide/chapter/index.html?lang=en",
    "someone.with.a.long.name@subdomain.example-university.edu",
    "/usr/share/doc/some-package/examples/configuration/defaults.conf",
])
def test_symbol_sequence_divided_after_a_symbol_never_inside_a_sign(engine, address):
    # UEB: a long symbols-sequence (web or e-mail address, path) is divided after a slash,
    # point, at sign or the like, the first part ending with dot 5; never between the cells
    # of one sign (slash ⠸⠌, underscore ⠨⠤, capitals ⠠⠠).
    parts = parts_of(rows_of(engine, f"See {address} today."), address)
    assert len(parts) >= 2
    whole, positions = translate_with_positions(TABLE, address)
    done = 0
    for part in parts[:-1]:
        inserted = part.endswith(CONTINUATION) and not whole[done:].startswith(part)
        body = part[:-1] if inserted else part
        assert whole[done:].startswith(body)
        done += len(body)
        # the division is between the cells of two print characters
        assert positions[done - 1] < positions[done]
        if inserted:
            assert address[positions[done] - 1] in "/.@_?=&-:", (part, address[positions[done] - 1])
        else:  # after a print hyphen, nothing is added
            assert address[positions[done] - 1] == "-"
    assert whole[done:] == parts[-1]


def test_hyphenated_compound_is_divided_at_its_hyphens_and_fills_the_line(engine):
    # UEB 10.13.5: divided at an existing hyphen, with nothing added; BANA §1.10: as much as
    # fits stays on the line where the word begins.
    word = "self-contained-and-rather-overlong-hyphenated-compound-expression"
    rows = rows_of(engine, f"A {word} appears.")
    assert rows[0].startswith(BLANK * 2 + braille("A") + BLANK)
    assert rows[0].endswith(HYPHEN) and back(rows[0].split(BLANK)[-1]).endswith("-")
    joined = "".join(row.split(BLANK)[-1] if i == 0 else row.split(BLANK)[0]
                     for i, row in enumerate(rows[:2]))
    assert braille(word).startswith(joined)


def test_random_long_tokens_are_divided_only_between_signs(engine):
    """Tokens of letters, capitals, digits and symbols: every row fits, and the rows rejoined
    without the inserted signs are liblouis's braille of the line."""
    rng = random.Random(11)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-@#&=?:'"
    for _ in range(40):
        token = "".join(rng.choice(alphabet) for _ in range(rng.randint(45, 140)))
        text = f"word {token} end"
        rows = rows_of(engine, text)
        whole, positions = translate_with_positions(TABLE, text)
        at = 0
        for row in rows:
            body = row.lstrip(BLANK)
            if whole[at:].startswith(body):
                at += len(body)
            else:  # a divided row: its last cell is the inserted sign
                assert body[-1] in (HYPHEN, CONTINUATION) and whole[at:].startswith(body[:-1])
                at += len(body) - 1
                assert positions[at - 1] < positions[at], (token, row)
            while at < len(whole) and whole[at] == BLANK:
                at += 1
        assert at == len(whole), (token, rows)


def test_a_line_the_engine_wrote_otherwise_is_divided_on_liblouis_braille():
    """A neural engine's braille that is not liblouis's has no known signs to divide: the line
    with the long token takes liblouis's braille, and its characters count as liblouis's."""
    number = "9" * 50
    options = RenderOptions(format="brf")
    prepared = prepare(f"Count {number} now.".encode(), "n.txt", options)
    wrong = braille(prepared.lines[0]).replace("\u2809", "\u2819")  # a different sign
    rendered = finish(prepared, [LineTranslation(wrong, {"cnn": len(prepared.lines[0])})])
    rows = [from_brf(r) for r in rendered.content.decode("ascii").split("\r\n")[:3]]
    assert rows[0].endswith(CONTINUATION) and NUMERIC in rows[0]
    assert rendered.chars_by_engine == {"louis": len(prepared.lines[0])}
