"""Defences for hostile input: zip archives (DOCX, EPUB) and XML.

Zip bombs: the central directory is checked before anything is extracted: the number of members,
the total expanded size and the expansion ratio of each member are limited. Python's zipfile stops
reading a member at its declared size, so a member cannot expand past what is checked here.

XML: parsed with entity resolution off, no DTD loading, no network and libxml2's default limits
on tree size (``huge_tree`` off), so neither external entities (XXE) nor entity expansion
("billion laughs") can be used.
"""

from __future__ import annotations

import io
import zipfile

from .errors import DocumentError

MAX_MEMBERS = 10_000
MAX_EXPANDED_BYTES = 512 * 1024 * 1024  # all members together
MAX_MEMBER_RATIO = 200  # expanded / compressed, for members large enough to matter
RATIO_FLOOR_BYTES = 1024 * 1024  # members expanding to less than this are not ratio-checked


def open_zip(data: bytes, filename: str, kind: str) -> zipfile.ZipFile:
    """A checked ZipFile over ``data``; raises DocumentError for broken or suspicious archives."""
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE compound file
        raise DocumentError(
            f"{filename}: this is an OLE compound file, not a {kind} zip container: an old "
            f"binary format or a password-protected document; open it and save it as {kind} "
            "without a password, then submit it again")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise DocumentError(
            f"{filename}: not a readable {kind} file (the zip container is broken: {exc}); "
            f"the file may be truncated — re-save or re-export it and submit it again") from None
    check_zip(archive, filename, kind)
    return archive


def check_zip(archive: zipfile.ZipFile, filename: str, kind: str) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise DocumentError(f"{filename}: the {kind} archive has {len(members)} parts (limit "
                            f"{MAX_MEMBERS}); this is not a normal document, check its source")
    total = 0
    for info in members:
        total += info.file_size
        if (info.file_size > RATIO_FLOOR_BYTES
                and info.file_size > MAX_MEMBER_RATIO * max(info.compress_size, 1)):
            raise DocumentError(
                f"{filename}: part {info.filename!r} of the {kind} archive expands "
                f"{info.file_size // max(info.compress_size, 1)}-fold (limit {MAX_MEMBER_RATIO}); "
                "refusing a possible zip bomb, check the file's source")
    if total > MAX_EXPANDED_BYTES:
        raise DocumentError(
            f"{filename}: the {kind} archive expands to {total // (1024 * 1024)} MiB (limit "
            f"{MAX_EXPANDED_BYTES // (1024 * 1024)} MiB); split the document and submit the parts")


def xml_parser(recover: bool = False):
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True,
                           huge_tree=False, remove_comments=True, remove_pis=True,
                           recover=recover)
