"""Readers: bytes of a document in, a :class:`~braillejobs.formats.blocks.Document` out.

One module per format. Readers that need heavy libraries (python-docx) import them
inside the reader, so importing the package stays cheap.
"""

from __future__ import annotations

from ..blocks import Document
from ..errors import DocumentError

READERS = {
    ".txt": "txt", ".text": "txt",
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".docx": "docx",
    ".epub": "epub",
}


def extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def read_document(data: bytes, filename: str) -> Document:
    """Parse ``data`` by the extension of ``filename`` (files without one are read as text)."""
    ext = extension(filename)
    kind = READERS.get(ext, "txt" if ext == "" else None)
    if kind is None:
        raise DocumentError(f"{filename}: unsupported file type {ext!r}; submit .txt, .md, "
                            ".html, .xhtml, .docx or .epub documents")
    if kind == "txt":
        from .txt import read_txt
        return read_txt(data, filename)
    if kind == "markdown":
        from .markdown import read_markdown
        return read_markdown(data, filename)
    if kind == "html":
        from .html import read_html
        return read_html(data, filename, xml=(ext == ".xhtml"))
    if kind == "docx":
        from .docx import read_docx
        return read_docx(data, filename)
    from .epub import read_epub
    return read_epub(data, filename)
