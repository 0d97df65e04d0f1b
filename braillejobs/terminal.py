"""Text from users and documents, made safe to print on an operator's terminal.

A job name, a file name, a dead letter or an error message can carry terminal control sequences
(CSI/OSC escapes that move the cursor, retitle the window or hide text), carriage returns and
backspaces that overwrite what was printed, or bidirectional overrides that reorder it. Every
such character is shown as a visible escape instead (``\\x1b``, ``\\r``, ``\\u202e``).
"""

from __future__ import annotations

import unicodedata

# Unicode categories shown escaped: controls (C0, C1, DEL), format characters (bidi overrides,
# zero-width ones), surrogates (undecodable bytes of a file name) and line/paragraph separators.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v",
          "\x1b": "\\x1b"}


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control or format character escaped (newlines kept if asked)."""
    text = str(text)
    if text.isprintable() and text.isascii():
        return text
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def echo(message: object = "", err: bool = False) -> None:
    """``click.echo`` of ``message`` with control characters shown escaped (newlines kept)."""
    import click

    click.echo(printable(message, keep_newlines=True), err=err)
