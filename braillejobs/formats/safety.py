"""Defences for hostile input: zip archives (DOCX, EPUB) and XML.

Zip bombs: the central directory is checked before anything is extracted: the number of members,
the total expanded size and the expansion ratio of each member are limited. The directory is the
archive's own claim, so members are then read through :class:`Archive`, which inflates each one
a chunk at a time and holds it to that claim: a member that inflates past its declared size (a
directory that says 1 KB over a gigabyte of data, which escapes the ratio check) is refused at
the first byte too many, and all the bytes inflated for one document, over every read, count
against ``MAX_EXPANDED_BYTES``. (Python's zipfile stops *returning* data at the declared size but
inflates a member's whole compressed data first, in one piece.) Libraries that read the archive
themselves get a copy whose members were read this way, stored uncompressed.

XML: parsed with entity resolution off, no DTD loading, no network and libxml2's default limits
on tree size (``huge_tree`` off), so neither external entities (XXE) nor entity expansion
("billion laughs") can be used.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

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


_IN_CHUNK = 64 * 1024  # compressed bytes fed to the inflater at a time
_OUT_CHUNK = 1024 * 1024  # most bytes one inflater call may produce


class Archive:
    """A DOCX or EPUB container: the central directory checked (:func:`open_zip`), then members
    read under one budget of inflated bytes for the document (``MAX_EXPANDED_BYTES`` unless
    given). Every member is held to its declared size and its checksum. Raises DocumentError."""

    def __init__(self, data: bytes, filename: str, kind: str, budget: int | None = None):
        self.zip = open_zip(data, filename, kind)
        self.data = memoryview(data)
        self.filename, self.kind = filename, kind
        self.budget = MAX_EXPANDED_BYTES if budget is None else budget
        self.inflated = 0  # bytes inflated so far, over every read

    def names(self) -> list[str]:
        """Member names, each once (a repeated name stands for its last entry, as in zipfile)."""
        return list(self.zip.NameToInfo)

    def __contains__(self, name: str) -> bool:
        return name in self.zip.NameToInfo

    def read(self, name: str) -> bytes:
        """The bytes of member ``name``; KeyError if there is none."""
        return self._inflate(self.zip.getinfo(name))

    def repacked(self) -> bytes:
        """The archive again, each member read once by :meth:`read` and stored uncompressed, for
        a library that opens the zip itself: it then reads exactly the checked bytes."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
            for name in self.names():
                copy.writestr(zipfile.ZipInfo(name), self.read(name))
        return out.getvalue()

    # -- reading one member ----------------------------------------------------------------
    def _refuse(self, info: zipfile.ZipInfo, what: str, advice: str) -> DocumentError:
        return DocumentError(f"{self.filename}: part {info.filename!r} of the {self.kind} "
                             f"archive {what}; {advice}")

    def _damaged(self, info: zipfile.ZipInfo, what: str) -> DocumentError:
        return self._refuse(info, what, "the file is damaged or truncated — re-save or "
                                        "re-export it and submit it again")

    def _charge(self, info: zipfile.ZipInfo, size: int) -> None:
        self.inflated += size
        if self.inflated > self.budget:
            limit = self.budget // (1024 * 1024)
            raise self._refuse(info, f"takes the bytes read from the archive past {limit} MiB "
                                     f"(the limit for one document)",
                               "split the document and submit the parts")

    def _compressed(self, info: zipfile.ZipInfo) -> memoryview:
        """The member's compressed bytes, found through its local header."""
        start = info.header_offset
        head = bytes(self.data[start:start + 30])
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise self._damaged(info, "has no valid local header")
        name_length, extra_length = struct.unpack("<HH", head[26:30])
        begin = start + 30 + name_length + extra_length
        if begin + info.compress_size > len(self.data):
            raise self._damaged(info, "runs past the end of the file")
        return self.data[begin:begin + info.compress_size]

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        if info.flag_bits & 0x1:
            raise self._refuse(info, "is encrypted", f"save the document as {self.kind} without "
                                                     "a password and submit it again")
        declared = info.file_size
        raw = self._compressed(info)
        chunks: list[bytes] = []
        size = crc = 0
        if info.compress_type == zipfile.ZIP_STORED:
            if len(raw) != declared:
                raise self._damaged(info, "is stored with a size other than it declares")
            self._charge(info, declared)
            chunks.append(bytes(raw))
            size, crc = declared, zlib.crc32(raw)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            pos, pending = 0, b""
            while not inflater.eof:
                if not pending:
                    if pos >= len(raw):
                        raise self._damaged(info, "ends before its compressed data does")
                    pending, pos = raw[pos:pos + _IN_CHUNK], pos + _IN_CHUNK
                try:  # at most one byte past the declared size: enough to see a lie
                    piece = inflater.decompress(pending, min(declared - size + 1, _OUT_CHUNK))
                except zlib.error as exc:
                    raise self._damaged(info, f"has broken compressed data ({exc})") from None
                pending = inflater.unconsumed_tail
                if not piece:
                    continue
                size += len(piece)
                if size > declared:
                    raise self._refuse(info, f"inflates past the {declared:,} bytes its zip "
                                             "directory declares",
                                       "refusing a possible zip bomb, check the file's source")
                self._charge(info, len(piece))
                crc = zlib.crc32(piece, crc)
                chunks.append(piece)
        else:
            raise self._refuse(info, f"uses compression method {info.compress_type}, which "
                                     f"{self.kind} files do not use",
                               f"re-save the document as {self.kind} and submit it again")
        if size != declared:
            raise self._damaged(info, f"holds {size:,} bytes, not the {declared:,} it declares")
        if crc != info.CRC:
            raise self._damaged(info, "fails its checksum")
        return b"".join(chunks)


def xml_parser(recover: bool = False):
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True,
                           huge_tree=False, remove_comments=True, remove_pis=True,
                           recover=recover)
