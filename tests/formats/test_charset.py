"""Characters the braille table has no sign for: readable braille, never an escape code.

liblouis writes a character its table does not define as ``'\\x0416'`` with an 8-dot cell in it,
which BRF silently drops. The layout transcribes such characters before any engine sees them
(formats/charset.py): UEB's own signs first, transliteration or a name in an embedded
transcriber's note otherwise, superscript and subscript characters as level indicators; each
document records what it did. The rule behind each expectation is cited beside it.
"""

from __future__ import annotations

import re

import pytest

from braillejobs.formats import RenderOptions, finish, prepare, render
from braillejobs.formats.brf import from_brf
from braillejobs.translate.registry import get_engine

NOTE_OPEN, NOTE_CLOSE = "\u2808\u2828\u2823", "\u2808\u2828\u281c"  # ⠈⠨⠣ … ⠈⠨⠜ (UEB 3.27)
EIGHT_DOT = re.compile("[\u2840-\u28ff]")


@pytest.fixture(scope="module")
def louis_engine():
    return get_engine("louis", "en-ueb-g2.ctb")


def braille_of(engine, text: str, table: str = "en-ueb-g2.ctb"):
    """(Unicode braille of ``text`` as one paragraph, the document's warnings)."""
    options = RenderOptions(format="unicode", table=table)
    prepared = prepare(text.encode(), "sample.txt", options)
    rendered = finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
    return rendered.content.decode("utf-8").strip(), rendered


def cells(text: str, table: str = "en-ueb-g2.ctb") -> str:
    import louis

    return louis.translateString([table], text, mode=louis.dotsIO | louis.ucBrl)


@pytest.mark.parametrize("text, script, latin", [
    ("Moscow is Москва.", "Cyrillic", "Moskva"),
    ("Athens is Αθήνα in Greek", None, None),  # UEB 4.5 Greek letters, 4.2 modifiers
    ("Athens was Ἀθῆναι", "Greek", "Athinai"),  # breathing marks have no UEB sign
    ("Tokyo is 東京.", "Chinese", "DongJing"),
    ("Seoul is 서울.", "Korean", "Seoul"),
    ("Cairo is القاهرة.", "Arabic", "lqhr"),
])
def test_letters_of_other_scripts_are_transliterated_in_a_note(louis_engine, text, script,
                                                               latin):
    # UEB 13.1 (foreign material) and BANA Braille Formats 3.1.4 (a short transcriber's note
    # embedded in the text): the letters of a script the table cannot write are given in a note
    # that names the script and spells them in Latin letters, uncontracted.
    braille, rendered = braille_of(louis_engine, text)
    assert not EIGHT_DOT.search(braille)
    if script is None:
        assert NOTE_OPEN not in braille and not rendered.warnings
        return
    note = braille[braille.index(NOTE_OPEN) + 3:braille.index(NOTE_CLOSE)]
    assert note.startswith(cells(script + ":").replace("\u2800", "") [:3])
    assert cells(latin.lower(), "en-ueb-g1.ctb") in note.replace("\u2820", "")
    [warning] = rendered.warnings
    assert warning.startswith("sample.txt: ") and f"{script}, transliterated" in warning
    assert rendered.transcribed["transliterated"] > 0


def test_a_run_of_words_is_one_note_with_its_punctuation(louis_engine):
    braille, _ = braille_of(louis_engine, "He said Привет, мир! twice.")
    assert braille.count(NOTE_OPEN) == 1 and braille.count(NOTE_CLOSE) == 1
    # the note closes right after its last letter; the print's "!" follows it
    assert braille.index(NOTE_CLOSE) + 3 == braille.index("\u2816")


@pytest.mark.parametrize("text, name", [
    ("I \u2764\ufe0f braille", "red heart"),  # a variation selector produces nothing of its own
    ("A family \U0001F468\u200d\U0001F469\u200d\U0001F467 here", "family man woman girl"),
    ("Flag \U0001F1EC\U0001F1E7 here", "United Kingdom"),
    ("Thumbs \U0001F44D\U0001F3FD up", "thumbs up medium skin tone"),
])
def test_emoji_are_named_in_one_note(louis_engine, text, name):
    # No braille authority defines signs for emoji: the transcriber names them (BANA 3.1).
    braille, rendered = braille_of(louis_engine, text)
    assert braille.count(NOTE_OPEN) == 1 and not EIGHT_DOT.search(braille)
    assert cells("emoji: " + name) in braille
    assert rendered.transcribed["emoji"] >= 1
    assert "emoji (" in rendered.warnings[0]


def test_neighbouring_emoji_share_one_note(louis_engine):
    braille, _ = braille_of(louis_engine, "Great \U0001F600\U0001F600!")
    assert braille.count(NOTE_OPEN) == 1
    assert cells("emoji: grinning face; emoji: grinning face") in braille


@pytest.mark.parametrize("text, expected, count", [
    ("H\u2082O", "\u2820\u2813\u2830\u2822\u283c\u2803\u2820\u2815", 1),  # UEB 11.4: H₂O
    ("x\u00b2", "\u282d\u2830\u2814\u283c\u2803", 1),  # x²: grade 1 indicator, superscript, 2
    ("2\u00b9\u2070", "\u283c\u2803\u2814\u283c\u2801\u281a", 2),  # after a digit: no ⠰ (6.5)
    ("m\u00b2\u00b3", "\u280d\u2830\u2814\u283c\u2803\u2809", 2),  # ²³: one raised number
    ("x\u207d\u207f\u207a\u00b9\u207e",  # a bracketed group is one item (UEB 11.4.1)
     "\u282d\u2830\u2814\u2810\u2823\u281d\u2810\u2816\u283c\u2801\u2810\u281c", 5),
    ("10\u207b\u00b3",  # −3 is two items: grouped with ⠣ … ⠜, grade 1 mode from the number
     "\u283c\u2801\u281a\u2814\u2823\u2810\u2824\u283c\u2809\u281c", 2),
])
def test_superscript_and_subscript_characters_are_level_indicators(louis_engine, text,
                                                                    expected, count):
    braille, rendered = braille_of(louis_engine, text)
    assert braille == expected
    assert rendered.transcribed["level"] == count


def test_accented_letters_greek_and_symbols_keep_ueb_signs(louis_engine):
    # UEB 4.2 (modifiers), 4.5 (Greek), 3 (symbols): signs the table has are used as they are.
    text = "café naïve Ω 25°C ½ © →"
    braille, rendered = braille_of(louis_engine, text)
    assert braille == cells(text) and NOTE_OPEN not in braille and not rendered.warnings


def test_invisible_characters_produce_nothing(louis_engine):
    braille, rendered = braille_of(louis_engine, "zero\u200bwidth and\u2060 joiner\ufe0f")
    assert braille == cells("zerowidth and joiner")
    assert NOTE_OPEN not in braille


def test_compatibility_forms_and_ligatures_become_their_letters(louis_engine):
    # UEB 2.3: fullwidth letters and typographic ligatures are print ornament.
    braille, rendered = braille_of(louis_engine, "\uff26\uff55\uff4c\uff4c \ufb01ne \ufb02at")
    assert braille == cells("Full fine flat")
    assert rendered.transcribed["compatibility"] == 6


def test_other_symbols_are_named(louis_engine):
    braille, rendered = braille_of(louis_engine, "The ring \u232c here.")
    assert cells("symbol: benzene ring") in braille
    assert "1 named (\u232c U+232C)" in rendered.warnings[0]


@pytest.mark.parametrize("engine_name", ["louis", "cnn", "rnn", "auto"])
def test_every_engine_writes_no_escape_and_the_same_notes(engine_name):
    engine = get_engine(engine_name, "en-ueb-g2.ctb")
    text = "Москва \U0001F600 x\u00b2 and H\u2082O in \u6771\u4eac."
    braille, rendered = braille_of(engine, text)
    assert not EIGHT_DOT.search(braille)
    assert braille == braille_of(get_engine("louis", "en-ueb-g2.ctb"), text)[0]


def test_brf_and_pef_agree_and_the_warning_counts_each_character(louis_engine):
    text = ("Привет \U0001F600 \u6771\u4eac x\u00b2\n\n" * 3).encode()
    brf = render(text, "m.txt", louis_engine, RenderOptions(format="brf"))
    pef = render(text, "m.txt", louis_engine, RenderOptions(format="pef"))
    brf_cells = "".join(from_brf(c) for c in brf.content.decode("ascii")
                        if c not in "\r\n\f").replace("\u2800", "")
    pef_cells = "".join(re.findall("[\u2800-\u28ff]", pef.content.decode("utf-8")))
    assert brf_cells == pef_cells.replace("\u2800", "")
    [warning] = brf.warnings
    assert warning.startswith("m.txt: 30 character(s)")  # 3 × (6 + 1 + 2 + 1)
    assert "18 Cyrillic, transliterated" in warning and "3 emoji" in warning
    assert "6 Chinese, transliterated" in warning and "3 superscript" in warning
