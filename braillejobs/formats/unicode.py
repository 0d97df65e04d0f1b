"""Unicode braille text: one block a line (a forced line break starts a new line), a blank line
between blocks, list items indented two cells per nesting level, code lines by their print
indentation, print page changes as a line of dots 3-6 ending in the new print page number."""

from __future__ import annotations

from typing import Sequence

from .flow import Unit
from .layout import BLANK, DOTS36, number_cells


def page_change_line(label: str, width: int) -> str:
    cells = number_cells(label)
    return DOTS36 * max(width - len(cells), 1) + cells


def write_unicode(units: Sequence[Unit], braille: Sequence[str], width: int = 40) -> str:
    groups: list[list[str]] = []
    for i, unit in enumerate(units):
        if unit.role == "page":
            line = page_change_line(unit.page or "", width)
            inside = (groups and i + 1 < len(units) and units[i + 1].continues)
            if inside:
                groups[-1].append(line)
            else:
                groups.append([line])
            continue
        text = braille[unit.line] if unit.line is not None else ""
        if not text.strip(BLANK):
            continue
        if unit.role == "item" or unit.preformatted:  # list nesting, code indentation
            text = BLANK * unit.first + text
        if unit.continues and groups:
            groups[-1].append(text)
        else:
            groups.append([text])
    return "".join("\n".join(g) + "\n" + ("\n" if n + 1 < len(groups) else "")
                   for n, g in enumerate(groups))
