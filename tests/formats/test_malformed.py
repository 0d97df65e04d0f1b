"""Malformed and hostile documents: each gives a DocumentError that names the file and says what
to do, and never stops the documents after it."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from braillejobs.formats import DocumentError, RenderOptions, finish, prepare
from braillejobs.formats import safety

from tests.formats.helpers import FIXTURES

DOCX = (FIXTURES / "seed-library.docx").read_bytes()
EPUB = (FIXTURES / "lighthouse.epub").read_bytes()
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def replace_member(archive: bytes, name: str, payload: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, payload if info.filename == name else src.read(info))
    return out.getvalue()


def error_for(data: bytes, filename: str) -> str:
    with pytest.raises(DocumentError) as info:
        prepare(data, filename, RenderOptions(format="brf"))
    message = str(info.value)
    assert message.startswith(filename.split("!")[0])
    return message


@pytest.mark.parametrize("name, data", [("report.docx", DOCX[: len(DOCX) // 2]),
                                        ("book.epub", EPUB[: len(EPUB) // 2]),
                                        ("empty.docx", b""), ("text.docx", b"not a zip")])
def test_truncated_archives(name, data):
    message = error_for(data, name)
    assert "truncated" in message and "submit it again" in message


def test_docx_without_body():
    body_less = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 f'<w:document xmlns:w="{W_NS}"></w:document>').encode()
    message = error_for(replace_member(DOCX, "word/document.xml", body_less), "nobody.docx")
    assert "has no body" in message and "re-save" in message


def test_docx_corrupt_xml():
    broken = DOCX_XML_START + b"<w:body><w:p><w:r><w:t>unclosed</w:body>"
    message = error_for(replace_member(DOCX, "word/document.xml", broken), "broken.docx")
    assert "damaged" in message and "re-save" in message


DOCX_XML_START = f'<?xml version="1.0"?><w:document xmlns:w="{W_NS}">'.encode()


def test_docx_missing_document_part():
    src = zipfile.ZipFile(io.BytesIO(DOCX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info.filename, src.read(info))
    message = error_for(out.getvalue(), "gutted.docx")
    assert "re-save" in message


def test_xhtml_corrupt_xml():
    message = error_for(b"<html xmlns='http://www.w3.org/1999/xhtml'><body><p>open</body>",
                        "page.xhtml")
    assert "malformed XHTML" in message and ".html" in message


def test_epub_with_corrupt_chapter_names_the_part():
    bad = replace_member(EPUB, "OEBPS/ch2.xhtml", b"<html><body><p>cut off")
    message = error_for(bad, "book.epub")
    assert "book.epub!" in message and "ch2.xhtml" in message


def test_epub_without_container():
    src = zipfile.ZipFile(io.BytesIO(EPUB))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != "META-INF/container.xml":
                dst.writestr(info.filename, src.read(info))
    assert "container.xml is missing" in error_for(out.getvalue(), "nocontainer.epub")


def test_binary_text_file():
    assert "binary" in error_for(b"\x00\x01\x02garbage", "data.txt")


# --- hostile input ------------------------------------------------------------------------------

def test_zip_bomb_ratio_is_refused():
    src = zipfile.ZipFile(io.BytesIO(DOCX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("word/media/zeros.bin", b"\0" * (8 * 1024 * 1024))
    message = error_for(out.getvalue(), "bomb.docx")
    assert "zip bomb" in message


def test_zip_total_size_is_limited(monkeypatch):
    monkeypatch.setattr(safety, "MAX_EXPANDED_BYTES", 1000)
    assert "expands to" in error_for(EPUB, "big.epub")


def test_zip_member_count_is_limited(monkeypatch):
    monkeypatch.setattr(safety, "MAX_MEMBERS", 3)
    assert "parts" in error_for(DOCX, "many.docx")


def test_xhtml_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETVALUE")
    xhtml = (f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
             f'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>a &x; b</p></body></html>')
    prepared = prepare(xhtml.encode(), "xxe.xhtml", RenderOptions(format="unicode"))
    assert "TOPSECRET" not in " ".join(prepared.lines)


def test_docx_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETVALUE")
    doc = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
           f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>a &x; b</w:t></w:r></w:p>'
           f'</w:body></w:document>').encode()
    data = replace_member(DOCX, "word/document.xml", doc)
    try:
        prepared = prepare(data, "xxe.docx", RenderOptions(format="unicode"))
    except DocumentError:
        return  # refusing the document is as safe as ignoring the entity
    assert "TOPSECRET" not in " ".join(prepared.lines)


def test_billion_laughs_does_not_expand():
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    xhtml = (f'<?xml version="1.0"?><!DOCTYPE html [{entities}]>'
             f'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&a9;</p></body></html>')
    t0 = time.perf_counter()
    try:
        prepared = prepare(xhtml.encode(), "laughs.xhtml", RenderOptions(format="unicode"))
        assert sum(len(line) for line in prepared.lines) < 1000
    except DocumentError:
        pass
    assert time.perf_counter() - t0 < 5


def test_a_bad_document_does_not_stop_the_others(engine):
    # how the pipeline uses the contract: prepare each document, translate all lines in one
    # batch, finish each; a DocumentError is recorded for its document only
    batch = [("a.md", b"# One\n\nFirst."), ("b.docx", DOCX[:100]), ("c.txt", b"Third."),
             ("d.xhtml", b"<p>unclosed"), ("e.html", b"<p>Fifth.</p>")]
    prepared, errors = [], {}
    for name, data in batch:
        try:
            prepared.append(prepare(data, name, RenderOptions(format="brf")))
        except DocumentError as exc:
            errors[name] = str(exc)
    lines = [line for p in prepared for line in p.lines]
    typeforms = [tf for p in prepared for tf in (p.typeforms or [None] * len(p.lines))]
    translations = engine.translate_lines(lines, typeforms)
    done, at = {}, 0
    for p in prepared:
        done[p.filename] = finish(p, translations[at:at + len(p.lines)])
        at += len(p.lines)
    assert sorted(errors) == ["b.docx", "d.xhtml"]
    assert sorted(done) == ["a.md", "c.txt", "e.html"]
    assert all(r.content.endswith(b"\r\n") for r in done.values())


@pytest.mark.parametrize("name", ["deep.html", "deep.xhtml"])
def test_markup_nested_beyond_parser_limits_is_refused(name):
    html = (b'<html xmlns="http://www.w3.org/1999/xhtml"><body>' + b"<div>" * 5000 + b"deep"
            + b"</div>" * 5000 + b"</body></html>")
    message = error_for(html, name)
    assert "depth" in message.lower()


def test_password_protected_or_old_binary_office_file():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    message = error_for(ole, "locked.docx")
    assert "password" in message and "save it as DOCX" in message
