"""EPUB 2 and 3: content documents in spine order, each read as XHTML.

The container (``META-INF/container.xml``) names the package document (OPF); its metadata give
the title and language, its manifest the items and its spine their reading order. Only what the
spine lists is read, each member of the archive at most once and under the zip-bomb defences
(:class:`~braillejobs.formats.safety.Archive`): a package that lists one chapter many times
(under many manifest ids, or many times in the spine, neither of which EPUB allows) has it read
once, where it first appears, with a warning.

Page-break markers (``epub:type="pagebreak"``, ``role="doc-pagebreak"``) become print page
numbers. The navigation document is left out (its ``nav`` element is dropped anyway); non-linear
spine items (notes, pop-ups) are read after the linear ones, as print puts them at the back.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from urllib.parse import unquote

from ..blocks import Document
from ..errors import DocumentError
from ..safety import Archive, xml_parser
from .html import document_from_tree, local_name, parse_xhtml

CONTAINER = "META-INF/container.xml"
PACKAGE_TYPE = "application/oebps-package+xml"
XHTML_TYPE = "application/xhtml+xml"


def _damaged(filename: str, why: str) -> DocumentError:
    return DocumentError(f"{filename}: the EPUB is damaged and cannot be read ({why}); "
                         "re-export the book as EPUB and submit it again")


def _xml(archive: Archive, name: str, filename: str):
    """A package file (container, OPF) parsed forgivingly, with the XML defences."""
    from lxml import etree

    try:
        root = etree.fromstring(archive.read(name), parser=xml_parser(recover=True))
    except etree.XMLSyntaxError as exc:
        raise _damaged(filename, f"{name}: {exc}") from None
    if root is None:
        raise _damaged(filename, f"{name} is empty")
    return root


def _children(el, name: str) -> list:
    return [c for c in el if local_name(c) == name]


def _first_text(metadata, name: str) -> str | None:
    if metadata is None:
        return None
    for el in metadata:
        if local_name(el) == name and el.text and el.text.strip():
            return el.text.strip()
    return None


def read_epub(data: bytes, filename: str) -> Document:
    archive = Archive(data, filename, "EPUB")
    if CONTAINER not in archive:
        raise DocumentError(f"{filename}: not an EPUB (META-INF/container.xml is missing); "
                            "re-export the book as EPUB")
    container = _xml(archive, CONTAINER, filename)
    opf_path = next((el.get("full-path") for el in container.iter()
                     if local_name(el) == "rootfile" and el.get("media-type") == PACKAGE_TYPE
                     and el.get("full-path")), None)
    if opf_path is None:
        raise _damaged(filename, "META-INF/container.xml names no package document")
    opf_path = posixpath.normpath(opf_path)
    if opf_path not in archive:
        raise _damaged(filename, f"the package document {opf_path} is missing")
    package = _xml(archive, opf_path, filename)
    base = posixpath.dirname(opf_path)

    doc = Document([])
    metadata = next(iter(_children(package, "metadata")), None)
    doc.title = _first_text(metadata, "title")
    language = _first_text(metadata, "language")
    if language:
        doc.language = language[:35]
    items: dict[str, tuple[str, str]] = {}  # id → (href as written, member name)
    for manifest in _children(package, "manifest"):
        for item in _children(manifest, "item"):
            ident, href = item.get("id"), item.get("href")
            if (ident and href and ident not in items and item.get("media-type") == XHTML_TYPE
                    and "nav" not in (item.get("properties") or "").split()):
                href = unquote(href)
                items[ident] = (href, posixpath.normpath(posixpath.join(base, href)))
    linear, later = [], []
    for spine in _children(package, "spine"):
        for ref in _children(spine, "itemref"):
            entry = items.get(ref.get("idref") or "")
            if entry is not None:
                (later if (ref.get("linear") or "yes").lower() == "no" else linear).append(entry)
    if not linear and not later:
        raise DocumentError(f"{filename}: the EPUB's spine lists no content documents; "
                            "re-export the book as EPUB")
    listed = Counter(member for _href, member in linear + later)
    seen: set[str] = set()
    for href, member in linear + later:
        if member in seen:
            continue
        seen.add(member)
        if listed[member] > 1:
            doc.warnings.append(f"{filename}: the EPUB's spine lists {href} {listed[member]} "
                                "times; it is read once, where it first appears")
        if member not in archive:
            raise _damaged(filename, f"{href}, listed in the spine, is not in the archive")
        part = f"{filename}!{href}"
        root = parse_xhtml(archive.read(member), part)
        doc.blocks.extend(document_from_tree(root, part).blocks)
    return doc
