"""Where a correction applies: the matcher against liblouis itself, which applies the
corrections table's word rules (the matcher must find a use exactly where liblouis writes the
corrected braille)."""

from __future__ import annotations

import pytest

from braillejobs.corrections.matching import Matcher
from braillejobs.corrections.table import table_list, write_table
from braillejobs.translate.louis_engine import load_louis

BASE = "en-ueb-g2.ctb"
CORRECTIONS = [("knowledge", "⠅⠝⠪⠇⠫⠛⠑"), ("and so", "⠁⠝⠙⠀⠎⠕")]
CONTEXTS = ["knowledge", "Knowledge", "KNOWLEDGE", "(knowledge)", "[knowledge]", "“knowledge”",
            "‘knowledge’", "\"knowledge\"", "knowledge.", "knowledge,", "knowledge;", "knowledge:",
            "knowledge!", "knowledge?!", "knowledge...", "knowledge…", "knowledge's",
            "knowledge’s", "knowledge-based", "self-knowledge", "—knowledge—", "knowledge–power",
            "knowledgeable", "foreknowledge", "acknowledge", "knowledges", "knowledge/power",
            "power/knowledge", "knowledge2", "2knowledge", "_knowledge_", "knowledge_base",
            "and so", "And so on", "and sorry", "land so", "sand so", "and so."]
# and the word between every pair of what may come before and after it (627 contexts): a
# symbols-sequence that goes on past its punctuation (knowledge,(x) x,(knowledge) is one word
BEFORE = ["", "x ", "(", "“", "x-", "*", "x,(", "\"", "'", "x.", "—", "[", "{", "(“", "x/", "‘",
          "x (", "x—(", "x:"]
AFTER = ["", " x", ")", ",", ",(x)", ".x", ")x", ",x", "’s", "'s x", "'s", "s", ".", "...", "?!",
         ", x", "-x", ");", ").", ".)", "”", "*", ":x", ";x", "'", "’", "!x", "”x", ").x", "'d",
         ",—x", "'s.", "’ll x"]
CONTEXTS += [b + "knowledge" + a for b in BEFORE for a in AFTER]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return table_list(BASE, write_table(CORRECTIONS, tmp_path_factory.mktemp("table")))


def test_the_matcher_finds_a_use_exactly_where_liblouis_applies_the_correction(tables):
    louis = load_louis()
    matcher = Matcher(p for p, _b in CORRECTIONS)
    disagree = []
    for text in CONTEXTS:
        corrected = louis.translateString(tables, text, mode=louis.dotsIO | louis.ucBrl)
        plain = louis.translateString([BASE], text, mode=louis.dotsIO | louis.ucBrl)
        if bool(matcher.spans(text)) != (corrected != plain):
            disagree.append((text, matcher.spans(text), corrected, plain))
    assert not disagree


def test_spans_and_counts():
    matcher = Matcher(["knowledge", "and so", "so"])
    line = "Knowledge, and so on; SO much knowledge-based knowledgeable"
    assert matcher.spans(line) == [(0, 9, "knowledge"), (11, 17, "and so"), (22, 24, "so"),
                                   (30, 39, "knowledge")]
    assert matcher.count([line, "so so"]) == {"knowledge": 2, "and so": 1, "so": 3}
    assert not Matcher([]) and Matcher([]).spans("knowledge") == []
    assert Matcher(["a.b (c)"]).spans("x a.b (c) y") == [(2, 9, "a.b (c)")]   # escaped
