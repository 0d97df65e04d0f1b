"""Limits on what one document or job may cost, with safe defaults (see the settings).

* ``max_document_bytes``: checked when a job is recorded (the file is not read past it).
* ``max_documents_per_job``: checked when a job is recorded.
* ``max_pages``: checked after layout, from the rendered bytes, by :func:`count_pages`.
* Zip containers (DOCX, EPUB) and XML are bounded in ``formats.safety``.
"""

from __future__ import annotations

import math


def count_pages(rendered, lines_per_page: int, cells_per_line: int = 40) -> int:
    """Braille pages of a rendered document: BRF pages end with a form feed, PEF has one
    ``<page>`` element a page; unicode output (not paginated) counts the lines it would take at
    ``cells_per_line``, ``lines_per_page`` a page."""
    content: bytes = rendered.content
    extension = getattr(rendered, "extension", "")
    if extension == "brf":
        body = content.rstrip(b"\f")
        return body.count(b"\f") + 1 if body else 0
    if extension == "pef":
        return content.count(b"<page>") + content.count(b"<page ")
    cells = max(1, cells_per_line)
    lines = sum(max(1, math.ceil(len(line) / cells))
                for line in content.decode("utf-8", "replace").splitlines())
    return math.ceil(lines / max(1, lines_per_page))
