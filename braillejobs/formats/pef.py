"""PEF 2008-1 (Portable Embosser Format, http://www.daisy.org/ns/2008/pef).

A head with Dublin Core metadata (format application/x-pef+xml, identifier, title, date,
language) and a body of volumes → sections → pages → rows of Unicode braille. Pages are the same
as the BRF writer's (page numbers included). Volumes hold at most ``volume_sheets`` sheets: one
page a sheet, two when duplex (interpoint). A volume break falls before a page that opens with a
top-level (centred) heading when such a page lies in the last fifth of the volume, so that a
chapter does not start just before the end of a volume; otherwise it falls at the sheet limit.
Braille page numbers run on through the volumes.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Sequence

from .blocks import clean_text
from .layout import BLANK, Page

PEF_NS = "http://www.daisy.org/ns/2008/pef"
DC_NS = "http://purl.org/dc/elements/1.1/"
SCHEMA = "pef-2008-1.rng"  # shipped beside this module


def language_tag(language: str | None) -> str:
    """A valid xsd:language tag for dc:language ("en_US" → "en-US"; unusable values → "en")."""
    tag = (language or "").strip().replace("_", "-")
    return tag if re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", tag) else "en"


def split_volumes(pages: Sequence[Page], volume_sheets: int, duplex: bool) -> list[list[Page]]:
    per_volume = max(1, volume_sheets) * (2 if duplex else 1)
    volumes: list[list[Page]] = []
    start = 0
    while start < len(pages):
        end = min(start + per_volume, len(pages))
        if end < len(pages):
            floor = start + max(1, per_volume - max(1, per_volume // 5))
            for cut in range(end, floor - 1, -1):
                if cut > start and pages[cut].opens_with_tier == 0:
                    if duplex and (cut - start) % 2:
                        continue  # keep the heading on a right-hand (front) page
                    end = cut
                    break
        volumes.append(list(pages[start:end]))
        start = end
    return volumes or [[]]


def write_pef(pages: Sequence[Page], *, cols: int, rows: int, duplex: bool, volume_sheets: int,
              identifier: str, title: str, language: str = "en", date: str | None = None
              ) -> bytes:
    from lxml import etree

    nsmap = {None: PEF_NS}
    root = etree.Element(f"{{{PEF_NS}}}pef", nsmap=nsmap, version="2008-1")
    head = etree.SubElement(root, f"{{{PEF_NS}}}head")
    meta = etree.SubElement(head, f"{{{PEF_NS}}}meta", nsmap={"dc": DC_NS})
    for name, value in (("format", "application/x-pef+xml"), ("identifier", identifier),
                        ("title", clean_text(title).strip() or "Untitled"),
                        ("date", date or _dt.date.today().isoformat()),
                        ("language", language_tag(language))):
        etree.SubElement(meta, f"{{{DC_NS}}}{name}").text = value
    body = etree.SubElement(root, f"{{{PEF_NS}}}body")
    for volume_pages in split_volumes(pages, volume_sheets, duplex):
        volume = etree.SubElement(body, f"{{{PEF_NS}}}volume", cols=str(cols), rows=str(rows),
                                  rowgap="0", duplex="true" if duplex else "false")
        section = etree.SubElement(volume, f"{{{PEF_NS}}}section")
        if not volume_pages:
            etree.SubElement(section, f"{{{PEF_NS}}}page")
        for page in volume_pages:
            page_el = etree.SubElement(section, f"{{{PEF_NS}}}page")
            for row in page.rows:
                row_el = etree.SubElement(page_el, f"{{{PEF_NS}}}row")
                text = row.rstrip(BLANK)
                if text:
                    row_el.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def schema_path():
    from importlib.resources import files

    return files(__package__).joinpath(SCHEMA)


def validate_pef(content: bytes) -> list[str]:
    """Problems found in a PEF document: RELAX NG schema errors, then size checks the schema
    cannot express (rows per page, cells per row). An empty list means valid."""
    from lxml import etree

    from .safety import xml_parser

    doc = etree.fromstring(content, parser=xml_parser()).getroottree()
    schema = etree.RelaxNG(etree.fromstring(schema_path().read_bytes(), parser=xml_parser()))
    problems = [f"line {e.line}: {e.message}" for e in schema.error_log] \
        if not schema.validate(doc) else []
    ns = {"p": PEF_NS}
    for v, volume in enumerate(doc.getroot().iterfind("p:body/p:volume", ns), start=1):
        cols, nrows = int(volume.get("cols", "0")), int(volume.get("rows", "0"))
        for n, page in enumerate(volume.iterfind(".//p:page", ns), start=1):
            page_rows = page.findall("p:row", ns)
            if len(page_rows) > nrows:
                problems.append(f"volume {v} page {n}: {len(page_rows)} rows > {nrows}")
            for r, row in enumerate(page_rows, start=1):
                if len(row.text or "") > cols:
                    problems.append(f"volume {v} page {n} row {r}: {len(row.text)} cells > {cols}")
    return problems
