"""Memory of reading a DOCX or EPUB is bounded by the archive checks, whatever the archive claims.

Two archives that pass the central-directory checks and still made the readers use gigabytes:
- a DOCX whose ``word/document.xml`` declares 1 KB in the zip directory (so no ratio check
  applies) and inflates to 1 GiB;
- an EPUB whose package lists one large chapter as 100 manifest items, all in the spine.
Each is read by ``formats.prepare`` in a child process that reports its peak memory
(``VmHWM``, its own high-water mark of resident memory); the child runs under an address-space limit so that a regression fails the test
instead of exhausting the machine.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.reliability.hostile import DOCX_RELS, DOCX_TYPES, W_NS

ROOT = Path(__file__).resolve().parents[2]
MAX_PEAK_MB = 400  # the reading child's peak RSS: about 100 MB when bounded, gigabytes when not
CHILD_ADDRESS_SPACE = 6 * 1024 ** 3

CONTAINER = ('<?xml version="1.0"?><container version="1.0" '
             'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             '<rootfile full-path="OEBPS/content.opf" '
             'media-type="application/oebps-package+xml"/></rootfiles></container>')
OPF = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
       'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
       '<dc:identifier id="id">x</dc:identifier><dc:title>Echoes</dc:title>'
       '<dc:language>en</dc:language></metadata><manifest>{items}</manifest>'
       '<spine>{refs}</spine></package>')


# --- building archives byte by byte (the directory can then say anything) ----------------------

def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def member(name: str, data: bytes) -> tuple:
    """An honest deflated member: (name, compressed bytes, crc, declared size)."""
    return name, deflate(data), zlib.crc32(data), len(data)


def build_zip(members: list[tuple]) -> bytes:
    """A zip archive of (name, deflated bytes, crc, declared uncompressed size) as given."""
    out, central = bytearray(), bytearray()
    for name, payload, crc, size in members:
        offset, raw_name = len(out), name.encode()
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc,
                           len(payload), size, len(raw_name), 0) + raw_name + payload
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21,
                               crc, len(payload), size, len(raw_name), 0, 0, 0, 0, 0,
                               offset) + raw_name
    out += central + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members),
                                 len(central), len(out), 0)
    return bytes(out)


def lying_docx(inflated: int = 1024 ** 3, declared: int = 1024) -> bytes:
    """A DOCX whose document part declares ``declared`` bytes and inflates to ``inflated``.

    The deflate stream is one compressed megabyte of text repeated: a full flush after each
    makes every repetition the same bytes, so the archive is built without inflating anything.
    """
    head = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'
            '<w:p><w:r><w:t>').encode()
    chunk = b"lorem ipsum dolor sit amet " * (1024 * 1024 // 27)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH) == again
    stream = first + again * (inflated // len(chunk)) + c.flush()
    prefix = (head + chunk)[:declared]
    return build_zip([member("[Content_Types].xml", DOCX_TYPES.encode()),
                      member("_rels/.rels", DOCX_RELS.encode()),
                      ("word/document.xml", stream, zlib.crc32(prefix), declared)])


def repeated_epub(chapter_bytes: int = 4 * 1024 * 1024, times: int = 100) -> tuple[bytes, int]:
    """An EPUB whose manifest lists one chapter of ``chapter_bytes`` as ``times`` items, each in
    the spine; and the number of words of the chapter."""
    para = "<p>" + " ".join(f"echo{i % 97}" for i in range(200)) + "</p>\n"
    count = chapter_bytes // len(para)
    body = para * count
    chapter = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
               f'<head><title>c</title></head><body>{body}</body></html>').encode()
    items = "".join(f'<item id="c{i}" href="big.xhtml" media-type="application/xhtml+xml"/>'
                    for i in range(times))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(times))
    archive = build_zip([member("mimetype", b"application/epub+zip"),
                         member("META-INF/container.xml", CONTAINER.encode()),
                         member("OEBPS/content.opf", OPF.format(items=items, refs=refs).encode()),
                         member("OEBPS/big.xhtml", chapter)])
    return archive, 200 * count


# --- reading in a child process ------------------------------------------------------------

CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]), int(sys.argv[3])))
from braillejobs.formats import DocumentError, RenderOptions, prepare
data = open(sys.argv[1], "rb").read()
report = {}
try:
    prepared = prepare(data, sys.argv[2], RenderOptions(format="brf"))
    report["words"] = sum(len(line.split()) for line in prepared.lines)
    report["warnings"] = prepared.warnings
except DocumentError as exc:
    report["error"] = str(exc)
except MemoryError:
    report["error"] = "MemoryError"
# VmHWM: this process's own peak; ru_maxrss would include the parent's size at the fork
with open("/proc/self/status") as status:
    hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
report["peak_mb"] = int(hwm[0]) // 1024 if hwm else \
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(report))
"""


def read_in_child(tmp_path: Path, data: bytes, filename: str) -> dict:
    path = tmp_path / filename
    path.write_bytes(data)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), filename,
                           str(CHILD_ADDRESS_SPACE)], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("archive-budget")


def test_docx_member_inflating_past_its_declared_size_is_refused_early(workdir):
    data = lying_docx()
    assert len(data) < 4 * 1024 * 1024
    report = read_in_child(workdir, data, "liar.docx")
    message = report.get("error", "")
    assert message.startswith("liar.docx: ") and "word/document.xml" in message, report
    assert "declares" in message and "check the file's source" in message, report
    assert report["peak_mb"] < MAX_PEAK_MB, report


def test_epub_listing_one_chapter_many_times_reads_it_once(workdir):
    data, words = repeated_epub()
    assert len(data) < 1024 * 1024
    report = read_in_child(workdir, data, "echoes.epub")
    assert "error" not in report, report
    assert report["words"] == words, report  # the chapter once, not a hundred times
    assert any("big.xhtml" in w and "100 times" in w for w in report["warnings"]), report
    assert report["peak_mb"] < MAX_PEAK_MB, report


# --- the reader of members itself ------------------------------------------------------------

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.mark.parametrize("name", ["seed-library.docx", "lighthouse.epub"])
def test_members_read_byte_for_byte(name):
    import zipfile

    from braillejobs.formats.safety import Archive

    data = (FIXTURES / name).read_bytes()
    archive, plain = Archive(data, name, "EPUB"), zipfile.ZipFile(io.BytesIO(data))
    assert archive.names() == plain.namelist()
    for member_name in plain.namelist():
        assert archive.read(member_name) == plain.read(member_name)
    assert archive.inflated == sum(i.file_size for i in plain.infolist())
    repacked = zipfile.ZipFile(io.BytesIO(archive.repacked()))
    assert {n: repacked.read(n) for n in repacked.namelist()} == \
        {n: plain.read(n) for n in plain.namelist()}


def test_every_read_counts_against_one_budget():
    from braillejobs.formats import DocumentError
    from braillejobs.formats.safety import Archive

    data = (FIXTURES / "lighthouse.epub").read_bytes()
    archive = Archive(data, "book.epub", "EPUB", budget=100_000)
    chapter = "OEBPS/ch2.xhtml"
    size = len(archive.read(chapter))
    with pytest.raises(DocumentError) as info:
        for _ in range(100_000 // size + 1):
            archive.read(chapter)
    message = str(info.value)
    assert message.startswith("book.epub: ") and "limit for one document" in message
    assert archive.inflated <= 100_000 + 1024 * 1024  # stopped within one chunk of the limit


@pytest.mark.parametrize("damage, words", [
    (lambda m: (m[0], m[1], m[2] ^ 1, m[3]), "checksum"),
    (lambda m: (m[0], m[1], m[2], m[3] + 10), "not the"),
    (lambda m: (m[0], m[1][: len(m[1]) // 2], m[2], m[3]), "ends before"),
])
def test_damaged_members_are_refused_with_a_reason(damage, words):
    from braillejobs.formats import DocumentError
    from braillejobs.formats.safety import Archive

    text = b"<w:document/>" + b"words " * 5000
    data = build_zip([member("[Content_Types].xml", DOCX_TYPES.encode()),
                      damage(member("word/document.xml", text))])
    with pytest.raises(DocumentError) as info:
        Archive(data, "bad.docx", "DOCX").read("word/document.xml")
    message = str(info.value)
    assert message.startswith("bad.docx: part 'word/document.xml'") and words in message
    assert "submit it again" in message
