"""Characters the braille table has no sign for, transcribed so that a reader can read them.

liblouis writes a character its table does not define as an escape (``'\\x0416'``, with an
8-dot cell in it), which no braille reader can use and which BRF cannot even carry. Before any
engine sees the text, every character is checked against the table's own signs and, where there
is none, transcribed the way a transcriber would (the choices, and the rules behind them, are in
README's formats section):

* **Signs the table has** (letters with accents, Greek, the symbols UEB defines) are left alone:
  UEB's own signs come first (UEB 4.2, 4.5). A letter with accents the table knows only apart
  (Greek ή) is written as its modifiers and the letter.
* **Invisible helpers** (variation selectors, joiners, emoji skin-tone and tag characters)
  produce nothing of their own.
* **Compatibility forms** (fullwidth letters, ligatures, circled digits) become the characters
  they stand for when the table has those.
* **Superscript and subscript characters** (¹ ⁴ ₂ ⁿ ...) become the UEB level indicators,
  superscript ⠔ and subscript ⠢ with the grade 1 indicator ⠰ in contracted text (UEB 3.24,
  11.4): see :mod:`braillejobs.formats.levels`. ² and ³ too, which liblouis knows one at a time
  only ("²³" would come out as two superscripts).
* **Latin letters without a sign** (ł, ŋ, ę) are written as their nearest plain letters inside
  the word (anyascii), which stays one word for the reader.
* **Letters of other scripts** (Cyrillic, Chinese, Korean, Arabic ...) are transliterated with
  ``anyascii`` and the run is set in an embedded transcriber's note naming the script,
  uncontracted (UEB 13.1: foreign material; BANA *Braille Formats* 3.1.4: a note of a few words
  is embedded in the text): ``⠈⠨⠣Cyrillic: Moskva⠈⠨⠜``.
* **Emoji** are named in a transcriber's note (no authority defines a braille sign for them):
  ``⠈⠨⠣emoji: grinning face⠈⠨⠜``.
* **Any other symbol** is named from Unicode's character name in a transcriber's note.

:func:`transcribe` does this on the inline content of a block and counts what it did, so that the
document can carry a warning naming the characters and their counts.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from .blocks import NO_CONTRACT, TRANSNOTE, Inline, Span
from .levels import LEVEL_CHARS, level_text

# The table whose character definitions decide what has a sign: en-ueb-g2 includes en-ueb-g1, and
# both take their characters from the same definitions, so one check serves both.
_CHECK_TABLE = "en-ueb-g1.ctb"
_INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x20E3} | set(range(0xFE00, 0xFE10)) | \
    set(range(0xE0100, 0xE01F0)) | set(range(0xE0020, 0xE0080)) | set(range(0x1F3FB, 0x1F400))
# Typographic ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) are ornament: the letters are written (UEB 2.3), not
# the ligature sign the table has for them.
_ORNAMENTAL = {chr(c) for c in range(0xFB00, 0xFB07)}
_BETWEEN_WORDS = set(" ,.;:!?'\"-()\u2013\u2014\u00ab\u00bb\u300c\u300d\u3001\u3002")
_SCRIPT_NAMES = {"CJK": "Chinese", "HANGUL": "Korean", "HIRAGANA": "Japanese",
                 "KATAKANA": "Japanese", "IDEOGRAPHIC": "Chinese"}


@dataclass
class Transcribed:
    """What :func:`transcribe` did to a document: counts per (character, how)."""
    counts: Counter = field(default_factory=Counter)

    def add(self, text: str, how: str) -> None:
        for ch in text:
            if not ch.isspace():
                self.counts[(ch, how)] += 1

    def kinds(self) -> Counter:
        """Characters by kind of transcription, a short fixed list (:data:`KINDS`; metrics)."""
        out: Counter = Counter()
        for (_ch, how), n in self.counts.items():
            out[_kind(how)] += n
        return out

    def warning(self, filename: str, shown: int = 8) -> str | None:
        """One line for the document: how many characters, grouped by how they were written."""
        if not self.counts:
            return None
        total = sum(self.counts.values())
        by_how: dict[str, Counter] = {}
        for (ch, how), n in self.counts.items():
            by_how.setdefault(how, Counter())[ch] += n
        parts = []
        for how, chars in sorted(by_how.items(), key=lambda kv: -sum(kv[1].values())):
            listed = " ".join(_visible(ch) for ch, _n in chars.most_common(shown))
            more = f" and {len(chars) - shown} more" if len(chars) > shown else ""
            parts.append(f"{sum(chars.values())} {how} ({listed}{more})")
        return (f"{filename}: {total} character(s) that braille has no sign for were "
                f"transcribed: {'; '.join(parts)}")


KINDS = ("level", "transliterated", "emoji", "named", "compatibility", "invisible")


def _kind(how: str) -> str:
    if how in ("superscript", "subscript"):
        return "level"
    if how.endswith("transliterated"):
        return "transliterated"
    if how.startswith("as "):
        return "compatibility"
    if how.startswith("invisible"):
        return "invisible"
    return how if how in KINDS else "named"


def _visible(ch: str) -> str:
    """The character and its code point (the character alone may not show on a terminal)."""
    return f"{ch} U+{ord(ch):04X}"


@lru_cache(maxsize=None)
def has_sign(ch: str) -> bool:
    """Whether the braille table writes ``ch`` with a sign of its own (not an escape)."""
    if ch in " \t" or "\u2800" <= ch <= "\u283f":
        return True
    from ..translate.louis_engine import load_louis

    louis = load_louis()
    try:
        cells = louis.translateString([_CHECK_TABLE], ch, mode=louis.dotsIO | louis.ucBrl)
    except Exception:  # noqa: BLE001 - a character liblouis chokes on has no sign
        return False
    return bool(cells) and all("\u2800" <= c <= "\u283f" for c in cells)


def _script(ch: str) -> str | None:
    """The script of a letter (or a mark) the table cannot write, as a reader would name it."""
    if not unicodedata.category(ch).startswith(("L", "M")):
        return None
    name = unicodedata.name(ch, "")
    if not name:
        return None
    word = name.split(" ", 1)[0]
    return _SCRIPT_NAMES.get(word, word.title())


def _emoji_at(text: str, i: int) -> tuple[int, str] | None:
    """(end, name) of an emoji sequence starting at ``text[i]``, if there is one."""
    import emoji

    if not emoji.is_emoji(text[i]) and not (0x1F1E6 <= ord(text[i]) <= 0x1F1FF):
        return None
    match = emoji.emoji_list(text[i:i + 16])
    if not match or match[0]["match_start"] != 0:
        return None
    seq = match[0]["emoji"]
    data = emoji.EMOJI_DATA.get(seq, {})
    name = data.get("en", "").strip(":").replace("_", " ") or unicodedata.name(text[i], "emoji")
    return i + len(seq), name


def _note(text: str, emphasis: int, plain_part: str | None = None) -> list[Span]:
    """An embedded transcriber's note: ``label`` contracted, ``plain_part`` uncontracted."""
    spans = [Span(text, emphasis | TRANSNOTE)]
    if plain_part:
        spans.append(Span(plain_part, emphasis | TRANSNOTE | NO_CONTRACT))
    return spans


def transcribe(content: list[Inline], done: Transcribed, contracted: bool = True
               ) -> list[Inline]:
    """``content`` with every character the table has no sign for transcribed (module notes);
    ``contracted``: the document is translated in grade 2."""
    if all(not isinstance(item, Span) or _plain(item.text) for item in content):
        return content
    out: list[Inline] = []
    for item in content:
        if isinstance(item, Span) and not _plain(item.text):
            out.extend(_span(item, done, contracted))
        else:
            out.append(item)
    return out


def _plain(text: str) -> bool:
    # ASCII the table always has; the level characters (¹ ² ³) are always ours
    return text.isascii() or all(has_sign(c) and c not in LEVEL_CHARS and c not in _ORNAMENTAL
                                 for c in text)


def _span(span: Span, done: Transcribed, contracted: bool) -> list[Span]:
    text, emphasis = span.text, span.emphasis
    out: list[Span] = []
    keep: list[str] = []

    def flush():
        if keep:
            out.append(Span("".join(keep), emphasis))
            keep.clear()

    def add_note(spans: list[Span]) -> None:
        """A note; one right after another (nothing between in print) shares its indicators."""
        flush()
        if out and out[-1].emphasis & TRANSNOTE:
            out.append(Span("; ", emphasis | TRANSNOTE))
        out.extend(spans)

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        code = ord(ch)
        if ch in LEVEL_CHARS:
            j = i
            up = LEVEL_CHARS[ch][1]
            while j < n and text[j] in LEVEL_CHARS and LEVEL_CHARS[text[j]][1] == up:
                j += 1
            base = "".join(LEVEL_CHARS[c][0] for c in text[i:j])
            previous = "".join(keep)[-1:] or (out[-1].text[-1:] if out else "")
            keep.append(level_text(base, up, after=previous, contracted=contracted))
            done.add(text[i:j], "superscript" if up else "subscript")
            i = j
            continue
        if ch in _ORNAMENTAL:
            letters = unicodedata.normalize("NFKC", ch)
            keep.append(letters)
            done.add(ch, f"as {letters}")
            i += 1
            continue
        if ch.isascii() or has_sign(ch):
            keep.append(ch)
            i += 1
            continue
        if code in _INVISIBLE:
            done.add(ch, "invisible, left out")
            i += 1
            continue
        found = _emoji_at(text, i)
        if found is not None:
            end, name = found
            flush()
            add_note(_note(f"emoji: {name}", emphasis))
            done.add("".join(c for c in text[i:end] if ord(c) not in _INVISIBLE), "emoji")
            i = end
            continue
        parts = unicodedata.normalize("NFD", ch)
        if parts != ch and all(c.isascii() or has_sign(c) for c in parts):
            keep.append(parts)  # a letter and its modifiers, which UEB writes (UEB 4.2)
            i += 1
            continue
        compat = unicodedata.normalize("NFKC", ch)
        if compat != ch and all(c.isascii() or has_sign(c) for c in compat):
            keep.append(compat)
            done.add(ch, f"as {compat}")
            i += 1
            continue
        script = _script(ch)
        if script == "Latin":  # a Latin letter UEB has no sign for (ł, ŋ): its nearest letters,
            from anyascii import anyascii  # in the word, which stays one word for the reader

            keep.append(anyascii(ch) or "?")
            done.add(ch, "Latin, transliterated")
            i += 1
            continue
        if script is not None:
            j = i + 1
            while j < n:  # the run of this script, words and what is between them
                if _script(text[j]) == script or unicodedata.category(text[j]).startswith("M"):
                    j += 1
                    continue
                k = j
                while k < n and text[k] in _BETWEEN_WORDS:
                    k += 1
                if k > j and k < n and _script(text[k]) == script:
                    j = k
                else:
                    break
            while j < n and text[j] in _BETWEEN_WORDS and not text[j].isascii() and \
                    not has_sign(text[j]):
                j += 1  # the script's own punctuation that ends the run (。 」)
            flush()
            from anyascii import anyascii

            run = text[i:j]
            add_note(_note(f"{script}: ", emphasis, anyascii(run).strip() or "?"))
            done.add("".join(c for c in run if c not in _BETWEEN_WORDS or not c.isascii()),
                     f"{script}, transliterated")
            i = j
            continue
        flush()
        name = unicodedata.name(ch, "").lower()
        add_note(_note(f"symbol: {name}" if name else f"character U+{code:04X}", emphasis))
        done.add(ch, "named")
        i += 1
    flush()
    return out
