"""Hostile documents: fixed cases (each with the kind it stands for) and builders for archives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

CONTAINER = ('<?xml version="1.0"?><container version="1.0" '
             'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             '<rootfile full-path="{opf}" media-type="application/oebps-package+xml"/>'
             '</rootfiles></container>')
OPF = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
       'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
       '<dc:identifier id="id">x</dc:identifier><dc:title>T</dc:title>'
       '<dc:language>en</dc:language></metadata><manifest>{items}</manifest>'
       '<spine>{refs}</spine></package>')
XHTML = ('<?xml version="1.0" encoding="utf-8"?>{doctype}<html '
         'xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body>{body}'
         '</body></html>')

DOCX_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
              '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
              '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
              'ContentType="application/xml"/><Override PartName="/word/document.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
              'document.main+xml"/></Types>')
DOCX_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
             'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
             'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
             ' Target="word/document.xml"/></Relationships>')
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(body_xml: str, doctype: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    doc = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
           f'<w:document xmlns:w="{W_NS}"><w:body>{body_xml}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", DOCX_TYPES)
        z.writestr("_rels/.rels", DOCX_RELS)
        z.writestr("word/document.xml", doc)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def para(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def epub(chapters: dict[str, str], doctype: str = "", opf_path: str = "OEBPS/content.opf",
         extra: dict[str, bytes] | None = None) -> bytes:
    items = "".join(f'<item id="c{i}" href="{name}" media-type="application/xhtml+xml"/>'
                    for i, name in enumerate(chapters))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", CONTAINER.format(opf=opf_path))
        z.writestr(opf_path, OPF.format(items=items, refs=refs))
        for name, body in chapters.items():
            z.writestr(base + name, XHTML.format(doctype=doctype, body=body))
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def zip_bomb(kind: str, expanded: int = 120 * 1024 * 1024) -> bytes:
    """A valid-looking DOCX or EPUB whose main part is ``expanded`` bytes of one repeated byte
    (a deflate ratio near 1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if kind == "docx":
            z.writestr("[Content_Types].xml", DOCX_TYPES)
            z.writestr("_rels/.rels", DOCX_RELS)
            member = "word/document.xml"
        else:
            z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
            z.writestr("META-INF/container.xml", CONTAINER.format(opf="content.opf"))
            z.writestr("content.opf", OPF.format(
                items='<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>',
                refs='<itemref idref="c"/>'))
            member = "c.xhtml"
        with z.open(member, "w", force_zip64=True) as fh:
            chunk = b" " * (1024 * 1024)
            for _ in range(expanded // len(chunk)):
                fh.write(chunk)
    return buf.getvalue()


def many_members(kind: str, count: int = 10_050) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(count):
            z.writestr(f"junk/{i}.xml", b"<a/>")
    return buf.getvalue()


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
          '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
          '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
          '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
          '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
          '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
          '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>')


def xxe(target: Path) -> str:
    return f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{target}">]>'


def fixed_cases(secret: Path) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, kind). ``secret`` is a file whose text must never reach an output."""
    deep_html = b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000
    cases: list[tuple[str, bytes, str]] = [
        ("binary.txt", bytes(range(256)) * 64, "binary"),
        ("binary-noext.html", bytes(range(255, -1, -1)) * 64, "binary"),
        ("elf.md", b"\x7fELF\x02\x01\x01" + bytes(4000), "binary"),
        ("png.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary"),
        ("nul-bytes.txt", b"The library\x00 opens at\x00 nine.\n" * 50, "NUL bytes"),
        ("one-nul.md", b"# Title\n\nA paragraph\x00 with one NUL.\n", "NUL bytes"),
        ("invalid-utf8.txt", b"caf\xc3 \xff\xfe broken \xed\xa0\x80 surrogate\n", "invalid UTF-8"),
        ("overlong-utf8.txt", b"over \xc0\xaf long \xe0\x80\xaf\n", "invalid UTF-8"),
        ("truncated-utf8.md", "The caf\u00e9".encode() + b"\xe2\x82", "invalid UTF-8"),
        ("utf16le-nobom.txt", "The library opens at nine.\n".encode("utf-16-le"),
         "UTF-16 without BOM"),
        ("utf16be-nobom.txt", "The library opens at nine.\n".encode("utf-16-be"),
         "UTF-16 without BOM"),
        ("utf16-bom.txt", "The library opens at nine.\n".encode("utf-16"), "UTF-16 with BOM"),
        ("utf32.txt", "Books\n".encode("utf-32"), "UTF-32"),
        ("long-line.txt", b"x" * 1_000_000, "1 MB line without spaces"),
        ("long-word-line.md", (b"supercalifragilistic" * 50_000) + b"\n",
         "1 MB line without spaces"),
        ("deep.html", deep_html, "deeply nested HTML"),
        ("deep-inline.html", b"<b><i><u>" * 30_000 + b"x", "deeply nested HTML"),
        ("deep-table.html", b"<table><tr><td>" * 5_000 + b"cell", "deeply nested HTML"),
        ("deep-quote.md", b">" * 50_000 + b" quoted\n", "deeply nested Markdown"),
        ("deep-list.md", b"".join(b"  " * i + b"- item\n" for i in range(400)),
         "deeply nested Markdown"),
        ("unclosed.html", b"<html><body><p>open <b>bold <i>italic <table><tr><td>x",
         "broken HTML"),
        ("entities.html", b"<p>&amp; &#0; &#x110000; &#xD800; &bogus; &nbsp;&lt;&gt;</p>",
         "HTML entities"),
        ("script.html", b"<script>" + b"alert(1);" * 1000 + b"</script><p>after</p>",
         "HTML script"),
        ("laughs.html", (LAUGHS + "<html><body><p>&lol9;</p></body></html>").encode(),
         "XML entity expansion"),
        ("laughs.xhtml", ('<?xml version="1.0"?>' + LAUGHS +
                          '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&lol9;</p>'
                          '</body></html>').encode(), "XML entity expansion"),
        ("laughs.docx", docx(para("&lol9;"), doctype=LAUGHS), "XML entity expansion"),
        ("laughs.epub", epub({"c.xhtml": "<p>&lol9;</p>"}, doctype=LAUGHS),
         "XML entity expansion"),
        ("xxe.docx", docx(para("&xxe;"), doctype=xxe(secret)), "XML external entity"),
        ("xxe.epub", epub({"c.xhtml": "<p>&xxe;</p>"}, doctype=xxe(secret)),
         "XML external entity"),
        ("xxe.xhtml", ('<?xml version="1.0"?>' + xxe(secret) +
                       '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&xxe;</p>'
                       '</body></html>').encode(), "XML external entity"),
        ("bomb.docx", zip_bomb("docx"), "zip bomb"),
        ("bomb.epub", zip_bomb("epub"), "zip bomb"),
        ("members.docx", many_members("docx"), "zip bomb"),
        ("members.epub", many_members("epub"), "zip bomb"),
        ("traversal.epub", epub({"../../escape.xhtml": "<p>up and out</p>",
                                 "ok.xhtml": "<p>inside</p>"}), "archive member names"),
        ("absolute.epub", epub({"c.xhtml": "<p>x</p>"}, opf_path="/abs/content.opf"),
         "archive member names"),
        ("dotdot-opf.epub", epub({"c.xhtml": "<p>x</p>"}, opf_path="../../content.opf"),
         "archive member names"),
        ("traversal.docx", docx(para("fine"), extra={"../../evil.xml": b"<x/>",
                                                      "/etc/evil": b"x"}),
         "archive member names"),
        ("truncated.docx", docx(para("cut short"))[:300], "broken archive"),
        ("not-a-zip.epub", b"PK\x03\x04" + bytes(100), "broken archive"),
        ("ole.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "broken archive"),
        ("empty.txt", b"", "empty"),
        ("empty.docx", b"", "empty"),
        ("only-newlines.md", b"\n" * 10_000, "empty"),
        ("controls.txt", bytes(range(1, 32)).replace(b"\n", b"") * 20 + b"\nend\n",
         "control characters"),
        ("bidi.txt", "abc \u202edcba\u202c \ufeff\u200b zero width\n".encode(), "unicode"),
        ("astral.txt", "emoji \U0001f600 math \U0001d400 \u00bd \u00b0 \u00e9\n".encode(),
         "unicode"),
        ("crlf.txt", b"one\r\ntwo\rthree\n\r\n", "line endings"),
    ]
    return cases


def plant(folder: Path, secret: Path) -> list[tuple[str, str]]:
    """Write the fixed cases and hostile links into ``folder``; returns (name, kind) of what a
    directory walk will offer."""
    folder.mkdir(parents=True, exist_ok=True)
    offered = []
    for name, data, kind in fixed_cases(secret):
        (folder / name).write_bytes(data)
        offered.append((name, kind))
    # Links: to a file outside the folder (refused), to one inside (fine), dangling.
    (folder / "link-out.txt").symlink_to(secret)
    offered.append(("link-out.txt", "symlink"))
    (folder / "link-in.txt").symlink_to(folder / "crlf.txt")
    offered.append(("link-in.txt", "symlink"))
    (folder / "dangling.txt").symlink_to(folder / "no-such-file")
    offered.append(("dangling.txt", "symlink"))
    sub = folder / "sub"
    sub.mkdir()
    (sub / "linked-dir").symlink_to(secret.parent, target_is_directory=True)
    return offered
