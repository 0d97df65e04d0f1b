"""Markdown nested deeper than the parser follows: no text is dropped, and the document says so.

markdown-it stops following containers (lists, block quotes) past its nesting limit and, left to
itself, drops everything from there to the end of the document. The reader keeps that text, in
order, as paragraphs at the deepest level it follows, and records a warning on the document.
"""

from __future__ import annotations

import re

import pytest

from braillejobs.formats import RenderOptions, prepare


def nested_list(depth: int) -> tuple[str, list[str]]:
    """A list ``depth`` levels deep (bullets and numbers alternating), a word of its own on every
    item, then items back at shallower levels and a closing paragraph."""
    lines, words = [], []
    for d in range(depth):
        marker = "-" if d % 2 == 0 else "1."
        indent = sum(2 if k % 2 == 0 else 3 for k in range(d))
        lines.append(" " * indent + f"{marker} item deep{d}word")
        words.append(f"deep{d}word")
    for d in (depth // 2, 1, 0):
        indent = sum(2 if k % 2 == 0 else 3 for k in range(d))
        lines.append(" " * indent + ("-" if d % 2 == 0 else "1.") + f" back{d}word")
        words.append(f"back{d}word")
    lines += ["", "Closing paragraph tailword."]
    words.append("tailword")
    return "\n".join(lines) + "\n", words


def nested_quote(depth: int) -> tuple[str, list[str]]:
    """Block quotes ``depth`` deep, a line of text at every depth, then the way back out."""
    lines, words = [], []
    for d in range(1, depth + 1):
        lines.append("> " * d + f"quote{d}word")
        words.append(f"quote{d}word")
    lines += ["", "> " * 2 + "shallowword", "", "Closing paragraph tailword."]
    words += ["shallowword", "tailword"]
    return "\n".join(lines) + "\n", words


def assert_all_words_in_order(source: str, words: list[str]) -> list[str]:
    prepared = prepare(source.encode(), "nested.md", RenderOptions(format="brf"))
    text = " ".join(prepared.lines)
    found = re.findall(r"\b(?:deep\d+|back\d+|quote\d+|shallow|tail)word\b", text)
    assert found == words, f"missing or out of order: {sorted(set(words) - set(found))[:10]}"
    return prepared.warnings


@pytest.mark.parametrize("depth", [10, 30, 200])
def test_deep_lists_keep_every_item_with_a_warning(depth):
    warnings = assert_all_words_in_order(*nested_list(depth))
    assert any("nested deeper" in w and w.startswith("nested.md") for w in warnings), warnings


@pytest.mark.parametrize("depth", [20, 200])
def test_deep_block_quotes_keep_every_line_with_a_warning(depth):
    warnings = assert_all_words_in_order(*nested_quote(depth))
    assert any("nested deeper" in w and w.startswith("nested.md") for w in warnings), warnings


def test_ordinary_nesting_has_no_warning():
    source, words = nested_list(4)
    quote, quote_words = nested_quote(3)
    warnings = assert_all_words_in_order(source + "\n" + quote, words + quote_words)
    assert warnings == []
