"""Emphasis spans → liblouis typeforms.

UEB marks emphasis with indicators whose form depends on extent: a symbol indicator for one
letter, a word indicator (with a terminator when the emphasis ends inside a word), and a passage
indicator with a terminator for three or more words (UEB §9.2–9.4). Choosing the form needs the
whole line, which liblouis has; so emphasis travels to the engine as a typeform per character and
the engine chooses the form. The flag values equal liblouis's constants (checked in the tests).

Punctuation attached to an emphasised word (with no unemphasised letter or digit in that word)
is taken into the emphasis: UEB §9 leaves the emphasis of adjacent punctuation to the transcriber,
and liblouis otherwise writes a terminator before the punctuation ("*hello*," → ⠨⠂⠓⠑⠇⠇⠕⠨⠄⠂
instead of ⠨⠂⠓⠑⠇⠇⠕⠂) and, at the end of a passage, closes the passage one word early and
gives the last word its own word indicator and terminator.

White space takes the emphasis its two neighbours share, so "*one* *two*" and "*one two*" give the
same typeform and liblouis sees one emphasised passage when print shows one.
"""

from __future__ import annotations

from .blocks import NO_CONTRACT, TRANSNOTE, TYPEFORM_MASK, Inline, Span

_OWN_EXTENT = TRANSNOTE | NO_CONTRACT


def segment_text(content: list[Inline]) -> tuple[str, list[int] | None]:
    """Text and typeform of a run of spans (breaks and markers are not expected here).

    The typeform is ``None`` when nothing is emphasised, which lets engines take their fast path.
    """
    chars: list[str] = []
    flags: list[int] = []
    for item in content:
        if isinstance(item, Span):
            chars.append(item.text)
            flags.extend([item.emphasis & TYPEFORM_MASK] * len(item.text))
    text = "".join(chars)
    if not any(flags):
        return text, None
    _punctuation_into_words(text, flags)
    # spaces: the emphasis common to the nearest non-space characters on both sides
    n = len(text)
    left = [0] * n
    last = 0
    for i, ch in enumerate(text):
        if ch != " ":
            last = flags[i]
        left[i] = last
    last = 0
    for i in range(n - 1, -1, -1):
        if text[i] != " ":
            last = flags[i]
        else:  # a transcriber's note or an uncontracted span has its own extent
            flags[i] = (left[i] & last & ~_OWN_EXTENT) | (flags[i] & _OWN_EXTENT)
    return text, flags


def _punctuation_into_words(text: str, flags: list[int]) -> None:
    n = len(text)
    start = 0
    while start < n:
        while start < n and text[start] == " ":
            start += 1
        end = start
        while end < n and text[end] != " ":
            end += 1
        word = range(start, end)
        if any(flags[i] for i in word) and all(flags[i] or not text[i].isalnum() for i in word):
            # each unemphasised (punctuation) character takes the flags of the nearest
            # emphasised character, the one before it when both are as near
            before = [0] * (end - start)
            last, dist = 0, None
            for k, i in enumerate(word):
                if flags[i]:
                    last, dist = flags[i], 0
                elif dist is not None:
                    dist += 1
                before[k] = (last, dist)
            after_flag, after_dist = 0, None
            for k in range(end - start - 1, -1, -1):
                i = start + k
                if flags[i]:
                    after_flag, after_dist = flags[i], 0
                    continue
                if after_dist is not None:
                    after_dist += 1
                b_flag, b_dist = before[k]
                if b_dist is None or (after_dist is not None and after_dist < b_dist):
                    flags[i] = after_flag
                else:
                    flags[i] = b_flag
        start = end
