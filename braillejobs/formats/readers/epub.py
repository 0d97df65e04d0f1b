"""EPUB 2 and 3 via ebooklib: content documents in spine order, each read as XHTML.

Page-break markers (``epub:type="pagebreak"``, ``role="doc-pagebreak"``) become print page
numbers. The navigation document is left out (its ``nav`` element is dropped anyway); non-linear
spine items (notes, pop-ups) are read after the linear ones, as print puts them at the back.
"""

from __future__ import annotations

import io
import warnings as _warnings

from ..blocks import Document
from ..errors import DocumentError
from ..safety import open_zip
from .html import document_from_tree, parse_xhtml


def read_epub(data: bytes, filename: str) -> Document:
    archive = open_zip(data, filename, "EPUB")
    names = set(archive.namelist())
    archive.close()
    if "META-INF/container.xml" not in names:
        raise DocumentError(f"{filename}: not an EPUB (META-INF/container.xml is missing); "
                            "re-export the book as EPUB")
    try:
        from ebooklib import ITEM_DOCUMENT, epub
    except ImportError:  # pragma: no cover - a dependency of the package
        raise DocumentError(f"{filename}: EPUB support needs ebooklib installed") from None
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises KeyError, EpubException, XML errors, ...
        raise DocumentError(f"{filename}: the EPUB is damaged and cannot be read "
                            f"({type(exc).__name__}: {exc}); re-export the book as EPUB "
                            "and submit it again") from None
    doc = Document([])
    titles = book.get_metadata("DC", "title")
    if titles and titles[0][0]:
        doc.title = str(titles[0][0]).strip() or None
    languages = book.get_metadata("DC", "language")
    if languages and languages[0][0]:
        doc.language = str(languages[0][0]).strip()[:35]
    linear, later = [], []
    for entry in book.spine:
        idref, is_linear = (entry if isinstance(entry, tuple) else (entry, "yes"))
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ITEM_DOCUMENT:
            continue
        if isinstance(item, epub.EpubNav):
            continue
        (later if str(is_linear).lower() == "no" else linear).append(item)
    if not linear and not later:
        raise DocumentError(f"{filename}: the EPUB's spine lists no content documents; "
                            "re-export the book as EPUB")
    for item in linear + later:
        part = f"{filename}!{item.get_name()}"
        root = parse_xhtml(item.content, part)  # raw bytes: get_content() re-serialises
        doc.blocks.extend(document_from_tree(root, part).blocks)
    return doc
