"""The capital-run roles: the vectorised computation against a slow word-by-word reference, and
the roles against where liblouis really writes UEB's capitals passage indicators."""

from __future__ import annotations

import random
import string
from collections import Counter

import numpy as np
import torch

from braillejobs.translate.capitals import (capital_roles, char_class, letter_classes, text_classes,
                                            text_roles, uncertain_roles, with_roles)
from braillejobs.translate.louis_engine import align
from braillejobs.translate.vocab import SEPARATOR, Vocab, code_points

ALPHABET = string.ascii_letters + string.digits + "&-'.,\"()ÉéÇß" + "  "


def _vocab() -> Vocab:
    return Vocab.build(Counter(ALPHABET * 3), Counter(), max_chunks=4)


def reference_roles(stream: str) -> list[int]:
    """One role a character, word by word, the way the module docstring defines it."""
    roles = [0] * len(stream)
    for line_start, line in _lines(stream):
        words = []           # (start, end, capitalised) of the words with letters
        for start, end in _tokens(line):
            word = line[start:end]
            upper = any(c.isupper() for c in word)
            lower = any(c.islower() for c in word)
            if upper or lower:
                words.append((start, end, upper and not lower))
        i = 0
        while i < len(words):
            if not words[i][2]:
                i += 1
                continue
            j = i
            while j < len(words) and words[j][2]:
                j += 1
            run = words[i:j]
            for k, (start, end, _cap) in enumerate(run):
                if len(run) == 1:
                    role = 1
                elif len(run) == 2:
                    role = 2
                else:
                    role = 3 if k == 0 else 5 if k == len(run) - 1 else 4
                for p in range(start, end):
                    roles[line_start + p] = role
            i = j
    return roles


def _lines(stream: str):
    start = 0
    for line in stream.split(SEPARATOR):
        yield start, line
        start += len(line) + 1


def _tokens(line: str):
    i = 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        j = i
        while j < len(line) and not line[j].isspace():
            j += 1
        yield i, j
        i = j


def _roles(stream: str, vocab: Vocab) -> list[int]:
    ids = torch.from_numpy(vocab.encode(stream))
    classes = torch.from_numpy(letter_classes(vocab))
    return capital_roles(ids, classes).tolist()


def test_roles_match_the_reference_on_random_streams():
    vocab = _vocab()
    rng = random.Random(5)
    words = ["THE", "BIG", "dog", "A", "I", "MP3", "33", "&", "THE-BIG", "TWO'S", "THREEs",
             "(THREE)", "\"DOG\"", "é", "É", "x", "ÇA", "ß", "--", "Hello", "NASA."]
    for _ in range(400):
        lines = []
        for _ in range(rng.randint(1, 4)):
            n = rng.randint(0, 12)
            lines.append(" ".join(rng.choice(words) if rng.random() < .8 else
                                  "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))
                                  for _ in range(n)))
        stream = SEPARATOR + SEPARATOR.join(lines) + SEPARATOR
        assert _roles(stream, vocab) == reference_roles(stream), stream


def test_roles_from_text_match_the_reference_and_the_stream():
    """``text_roles`` (no vocabulary: every character classed by itself) gives each line the
    reference's roles, and the stream's where every character is in the vocabulary."""
    vocab = _vocab()
    rng = random.Random(7)
    words = ["THE", "BIG", "dog", "MP3", "33", "THE-BIG", "(THREE)", "É", "ÇA", "Ωmega", "ΩΣ",
             "Hello", "NASA.", "\tTAB"]
    for _ in range(200):
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 9)))
                 for _ in range(rng.randint(1, 4))]
        got = text_roles(lines)
        assert len(got) == len(lines)
        for line, roles in zip(lines, got):
            assert roles.tolist() == reference_roles(line), line
            if all(ch in ALPHABET for ch in line):
                assert roles.tolist() == _roles(line, vocab), line
    assert [r.tolist() for r in text_roles(["", "A B C"])] == [[], [3, 0, 4, 0, 5]]


def test_text_classes_class_every_character_as_char_class_does():
    """The table lookup for ASCII and the one-by-one path for the rest agree with ``char_class``
    on every ASCII character, letters of other scripts, emoji, a lone surrogate and spaces of
    other kinds."""
    text = "".join(map(chr, range(128))) + "ÉéΩωßǅ😀\ud800\u00a0\u2003\u3000Ⅻⅻ"
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    assert text_classes(text, points).tolist() == [char_class(ch) for ch in text]


def test_roles_in_the_middle_of_nothing():
    vocab = _vocab()
    assert _roles("", vocab) == []
    assert _roles("   ", vocab) == [0, 0, 0]
    assert _roles("33 & 44", vocab) == [0] * 7
    assert _roles("A B C", vocab) == [3, 0, 4, 0, 5]
    # a line break ends a run; tokens without letters do not
    assert _roles("ONE TWO\nTHREE", vocab) == [2] * 3 + [0] + [2] * 3 + [0] + [1] * 5
    assert _roles("ONE 33 TWO x", vocab) == [2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 0, 0]


def test_packed_ids_keep_padding_silent():
    vocab = _vocab()
    ids = torch.from_numpy(np.r_[[0, 0], vocab.encode("THE BIG DOG"), [0]])
    packed = with_roles(ids, torch.from_numpy(letter_classes(vocab)), vocab.n_chars)
    assert packed[:2].tolist() == [0, 0] and packed[-1].item() == 0
    assert (packed % vocab.n_chars).tolist() == ids.tolist()
    assert (packed // vocab.n_chars).tolist()[2:-1] == [3, 3, 3, 0, 4, 4, 4, 0, 5, 5, 5]


def test_roles_say_where_liblouis_writes_a_capitals_passage():
    """Role 3 words carry liblouis's passage indicator, role 5 words its terminator, role 4 words
    neither a word indicator nor a terminator; shorter runs have no passage at all."""
    sentences = [
        "THE BIG DOG ran home.", "HELLO, WORLD AND YOU", "SALT & PEPPER ARE here",
        "MP3 FILES ARE HERE", "the BBC AND ITV are", "ONE TWO 33 FOUR five",
        '"THE BIG DOG" barked', "ONE TWO. Three", "ONE TWO THREEs", "THE-BIG DOG ran",
        "NOTICE: THIS ROOM IS FOR STAFF ONLY. Thank you.", "I AM HERE now",
    ]
    ids_text = "".join(ALPHABET) + ":!"
    vocab = Vocab.build(Counter(ids_text * 3), Counter(), max_chunks=4)
    checked = 0
    for text in sentences:
        _braille, chunks = align(text, "en-ueb-g2.ctb")
        roles = _roles(text, vocab)
        passage = any(r == 3 for r in roles)
        assert passage == ("⠠⠠⠠" in "".join(chunks)), text
        for start, end in _tokens(text):
            cells = "".join(chunks[start:end])
            role = roles[start]
            if role == 3:
                assert cells.startswith("⠠⠠⠠") or "⠠⠠⠠" in cells, (text, start)
            if role == 5:
                assert cells.endswith("⠠⠄"), (text, start)
            if role == 4:
                assert "⠠⠠" not in cells and "⠠⠄" not in cells, (text, start)
            checked += role >= 3
    assert checked >= 20
    assert code_points("x").tolist() == [ord("x")]


def test_roles_that_hang_on_letters_outside_ascii_are_marked():
    """A word's role is uncertain where it changes with whether letters outside ASCII count:
    liblouis counts Greek capitals (its table defines them) but not Cyrillic ones (escapes)."""
    def undefined(ch: str) -> bool:       # as the g2 table: Cyrillic and ℝ undefined
        return "\u0400" <= ch <= "\u04ff" or ch == "ℝ"

    def marked(line: str) -> str:
        got = uncertain_roles([line], undefined)
        return "".join(ch if m else "_" for ch, m in zip(line, got.tolist()))

    # every token of the stretch between lower-case words that holds the doubtful token
    assert marked("PROUD TO BE A ΦΒΚ") == "PROUD_TO_BE_A_ΦΒΚ"
    assert marked("we saw PROUD TO BE A ΦΒΚ and then SOME MORE") == \
        "_" * len("we saw ") + "PROUD_TO_BE_A_ΦΒΚ" + "_" * len(" and then SOME MORE")
    assert marked("ΣΙΓΜΑ & Ωб MET -- now") == "ΣΙΓΜΑ_&_Ωб_MET_--____"
    assert marked("THE AМB") == "THE_AМB"                  # liblouis breaks the word at М
    assert marked("10 µ OK") == "10_µ_OK"                  # µ: a letter here, a sign there
    # tokens whose standing is the same however their letters count: certain
    for line in ["THE CAFÉ IS OPEN", "Café au lait", "plain ASCII LINE", "“HELLO”, SAID I",
                 "Ωmega is a letter", "дом"]:
        assert marked(line) == "_" * len(line), line
    assert uncertain_roles([], undefined).tolist() == []
    lines = ["", "  ", "A ΦΒΚ", "x"]
    assert len(uncertain_roles(lines, undefined)) == sum(map(len, lines))


def test_auto_writes_capitals_passages_around_foreign_capitals_as_liblouis():
    """Capitalised words in Greek (defined by the table) or Cyrillic (written as escapes) inside,
    before and after capitals passages: the words whose indicators hang on them go to liblouis,
    and auto writes every line as liblouis does."""
    from braillejobs.translate.louis_engine import LouisEngine
    from braillejobs.translate.neural import build_engine

    foreign = ["ΦΒΚ", "ΣΙΓΜΑ", "МОСКВА", "ΑΩ", "ДА", "Ω", "Я", "Ωб", "ΜΜ", "ß", "STRAßE", "AМB",
               "ΦℝB", "CAFÉ", "µ", "&", "42", "Café"]
    latin = ["PROUD", "TO", "BE", "A", "THE", "HOUSE", "IS", "OPEN", "NOW", "WE", "MET", "IN",
             "X.", "--"]
    rng = random.Random(3)
    lines = []
    for _ in range(400):
        words = [rng.choice(latin) for _ in range(rng.randint(1, 6))]
        words.insert(rng.randint(0, len(words)), rng.choice(foreign))
        lines.append(" ".join(["Then"] * (rng.random() < 0.3) + words
                              + [rng.choice(["now.", "here", "ok"])] * (rng.random() < 0.3)))
    auto = build_engine("auto", "en-ueb-g2.ctb")
    louis = LouisEngine("en-ueb-g2.ctb")
    got = [r.braille for r in auto.translate_lines(lines)]
    assert [ln for ln, g in zip(lines, got) if g != louis.translate_text(ln)] == []
    routed = auto.route(lines)
    assert routed.roles_to_louis.any() and (routed.engine[routed.roles_to_louis] == 2).all()
