"""Plain text: UTF-8, UTF-16 with a BOM, otherwise cp1252 with a warning.

Paragraphs are separated by blank lines and their lines joined with spaces. A text without any
blank line but with several lines is read one paragraph per line (lists, addresses, verse). A form
feed starts a new print page, numbered from 2.
"""

from __future__ import annotations

import re

from ..blocks import Document, PageBreak, Paragraph, Span, normalise_inlines
from ..errors import DocumentError


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """Text saved as UTF-16 without a byte-order mark: in mostly-Latin text one byte of each
    pair is NUL. Anything that does not decode cleanly, or decodes to NULs, is not text."""
    if len(data) < 4 or len(data) % 2:
        return None
    for codec, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if high.count(0) >= 0.9 * len(high):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                return None
            return None if "\x00" in text else (text, codec)
    return None


def decode_text(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Text of a plain-text document: UTF-8, UTF-16 with a BOM, else cp1252 with a warning."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise DocumentError(f"{filename}: broken UTF-16 text; re-save it as UTF-8") from None
    if b"\x00" in data:
        guessed = _utf16_without_bom(data)
        if guessed is not None:
            text, codec = guessed
            return text, [f"{filename}: no byte-order mark; read as {codec.upper()} — re-save "
                          "it as UTF-8 to be sure"]
        raise DocumentError(f"{filename}: looks like a binary file (NUL bytes); "
                            "submit text, Markdown, HTML, DOCX or EPUB documents")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), [f"{filename}: not UTF-8; read as cp1252 (Windows-1252) — "
                                       "check accented letters and quotes, or re-save as UTF-8"]
    except UnicodeDecodeError:
        raise DocumentError(f"{filename}: text is neither UTF-8 nor cp1252; "
                            "re-save it as UTF-8") from None


def read_txt(data: bytes, filename: str) -> Document:
    text, warnings = decode_text(data, filename)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks: list = []
    pages = text.split("\f")
    for page_no, page in enumerate(pages, start=1):
        if page_no > 1:
            blocks.append(PageBreak(str(page_no)))
        if re.search(r"\n[ \t]*\n", page.strip("\n")):
            paragraphs = re.split(r"\n[ \t]*\n", page)
        else:
            paragraphs = page.split("\n")
        for para in paragraphs:
            content = normalise_inlines([Span(para.replace("\n", " "))])
            if content:
                blocks.append(Paragraph(content))
    return Document(blocks, warnings=warnings)
