"""The corpus writes typographic quotes where word processors do, in every position where ASCII
quotes occur, and the evaluation sorts lines into the error classes it reports."""

from __future__ import annotations

from braillejobs.translate.training import corpus
from braillejobs.translate.training.evaluate import by_class, has_capital_passage, line_classes


def test_typographic_quotes_by_position():
    t = corpus.typographic
    assert t('He said "yes" to the students\' teacher.') == \
        "He said \u201cyes\u201d to the students\u2019 teacher."
    assert t("'Tis the '90s, rock 'n' roll") == "\u2019Tis the \u201990s, rock \u2019n\u2019 roll"
    assert t("She wrote 'hello' (and 'bye').") == \
        "She wrote \u2018hello\u2019 (and \u2018bye\u2019)."
    assert t('"Quote," he said.') == "\u201cQuote,\u201d he said."
    assert t("OpenSSL's '%s' format") == "OpenSSL\u2019s \u2018%s\u2019 format"
    assert t("no quotes here") == "no quotes here"
    # only the quotes change: the same length, the same other characters
    line = 'a "b" c\'d \'e\' "f'
    assert len(t(line)) == len(line)
    assert [c for c in t(line) if c not in "\u2018\u2019\u201c\u201d"] == \
        [c for c in line if c not in "'\""]


def test_a_share_of_the_corpus_is_typographic(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    lines = [f'Line {i}: she said "word {i}" and it\'s done.' for i in range(400)]
    (docs / "a.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "corpus"
    corpus.build(out, seed=1, synthetic_share=0.0, sources=(), user_dir=docs)
    written = (out / "train.txt").read_text(encoding="utf-8").splitlines() + \
        (out / "heldout.txt").read_text(encoding="utf-8").splitlines()
    curly = [x for x in written if "\u201c" in x]
    straight = [x for x in written if '"' in x]
    assert len(written) == 400 and len(curly) + len(straight) == 400
    assert 0.3 < len(curly) / 400 < 0.5            # TYPOGRAPHIC_SHARE of them
    assert all("it\u2019s" in x for x in curly)
    # code-like lines keep their ASCII quotes
    assert corpus.maybe_typographic('$x = "a";', __import__("random").Random(0)) == '$x = "a";'


def test_line_classes():
    assert line_classes("plain words") == []
    assert line_classes("It\u2019s 1999 in Z\u00fcrich") == [
        "typographic punctuation", "digits", "non-ASCII"]
    assert has_capital_passage("he said THE BIG 33 DOG ran")
    assert not has_capital_passage("THE BIG dog RAN")
    assert not has_capital_passage("THE BIG\u2014DOG")      # one word, two capitalised
    figures = by_class(["THE BIG DOG ran", "a 1", "a 2"], ["x", "y", "z"], ["x", "y", "w"])
    assert figures["capital passage"] == {"lines": 1, "exact_lines": 1.0}
    assert figures["digits"] == {"lines": 2, "exact_lines": 0.5}
    assert figures["non-ASCII"] == {"lines": 0, "exact_lines": None}
    assert figures["none of the classes"] == {"lines": 0, "exact_lines": None}
    assert figures["no typographic punctuation"] == {"lines": 3, "exact_lines": 2 / 3}
    figures = by_class(["plain", "it\u2019s"], ["a", "b"], ["a", "c"])
    assert figures["none of the classes"] == {"lines": 1, "exact_lines": 1.0}
    assert figures["no typographic punctuation"] == {"lines": 1, "exact_lines": 1.0}
    assert figures["typographic punctuation"] == {"lines": 1, "exact_lines": 0.0}
