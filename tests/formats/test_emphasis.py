"""Emphasis spans become liblouis typeforms, and liblouis writes the UEB indicators.

UEB = *The Rules of Unified English Braille* (2013), §9 typeforms: a symbol indicator for one
letter, a word indicator for one word (with a terminator when the emphasis ends inside the word),
a passage indicator and terminator for three or more words (§9.2–9.4). Indicators: italic ⠨
(dots 4-6), bold ⠘ (dots 4-5), underline ⠸ (dots 4-5-6); symbol ⠆, word ⠂, passage ⠶,
terminator ⠄.
"""

from __future__ import annotations

import louis
import pytest

from braillejobs.formats import RenderOptions, prepare, finish
from braillejobs.formats.blocks import BOLD, ITALIC, UNDERLINE, Span
from braillejobs.formats.emphasis import segment_text

from tests.formats.helpers import translate


def test_flags_are_liblouis_typeform_constants():
    assert (ITALIC, UNDERLINE, BOLD) == (louis.italic, louis.underline, louis.bold)


def test_plain_text_has_no_typeform():
    assert segment_text([Span("plain words")]) == ("plain words", None)


def test_spaces_take_shared_emphasis():
    text, tf = segment_text([Span("a "), Span("one", ITALIC), Span(" "), Span("two", ITALIC),
                             Span(" b")])
    assert text == "a one two b"
    assert tf == [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]


def test_attached_punctuation_joins_the_emphasis():
    text, tf = segment_text([Span("say "), Span("hello", ITALIC), Span(", then")])
    assert tf[text.index(",")] == ITALIC and tf[text.index("then")] == 0


def _braille(engine, spans) -> str:
    text, tf = segment_text(spans)
    return translate(engine, [text], [tf])[0]


def test_italic_word_indicator(engine):
    # UEB §9.3 word indicator: ⠨⠂ before the word, no terminator at its end.
    out = _braille(engine, [Span("a "), Span("dog", ITALIC), Span(" ran")])
    assert out == "⠁⠀⠨⠂⠙⠕⠛⠀⠗⠁⠝"


def test_word_indicator_before_punctuation_needs_no_terminator(engine):
    # UEB §9: the punctuation attached to the emphasised word is taken into it (no ⠨⠄).
    out = _braille(engine, [Span("say "), Span("hello", ITALIC), Span(", world")])
    assert "⠨⠂⠓⠑⠇⠇⠕⠂" in out and "⠨⠄" not in out


def test_bold_symbol_indicator(engine):
    # UEB §9.2 symbol indicator: one emphasised letter, bold ⠘⠆ (then the grade 1 indicator ⠰,
    # since b alone is the wordsign for "but").
    out = _braille(engine, [Span("grade "), Span("b", BOLD)])
    assert out.endswith("⠘⠆⠰⠃")


def test_partial_word_takes_terminator(engine):
    # UEB §9.3: emphasis ending inside a word is closed with the terminator ⠨⠄.
    out = _braille(engine, [Span("un", UNDERLINE), Span("done")])
    assert out.startswith("⠸⠂") and "⠸⠄" in out


def test_italic_passage_indicator_and_terminator(engine):
    # UEB §9.4 passage: three or more words open with ⠨⠶ and close with ⠨⠄ after the last word.
    out = _braille(engine, [Span("we read "), Span("one two three four", ITALIC),
                            Span(" aloud.")])
    assert "⠨⠶" in out
    assert out.index("⠨⠶") < out.index("⠋⠳⠗⠨⠄")


def test_passage_before_full_stop_keeps_last_word_inside(engine):
    # Without taking the full stop into the emphasis, liblouis 3.24 closes the passage one word
    # early and gives the last word a word indicator of its own.
    out = _braille(engine, [Span("one two three four", BOLD), Span(".")])
    assert out.count("⠘⠶") == 1 and "⠘⠂" not in out


def test_emphasis_reaches_the_engine_through_prepare(engine):
    md = b"Plain and *slanted* and **heavy** words.\n"
    prepared = prepare(md, "e.md", RenderOptions(format="unicode"))
    assert prepared.typeforms is not None
    (tf,) = prepared.typeforms
    line = prepared.lines[0]
    assert tf[line.index("slanted")] == ITALIC and tf[line.index("heavy")] == BOLD
    out = finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
    text = out.content.decode("utf-8")
    assert "⠨⠂⠎⠇⠁⠝⠞⠫" in text and "⠘⠂⠓⠂⠧⠽" in text


@pytest.mark.parametrize("html, indicator", [
    (b"<p><em>x</em> words</p>", "⠨⠆"), (b"<p><b>bold words here now</b></p>", "⠘⠶"),
    (b"<p><u>under</u> line</p>", "⠸⠂")])
def test_html_emphasis_to_indicators(engine, html, indicator):
    prepared = prepare(html, "e.html", RenderOptions(format="unicode"))
    out = finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
    assert indicator in out.content.decode("utf-8")
