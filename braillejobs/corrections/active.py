"""The corrections in force for a translation: the global set, and a named set over it.

:func:`load` reads them from the database for one table and writes their liblouis table
(:mod:`.table`) under the data directory; engines are built with the result (the registry keeps
one engine per distinct content, by digest).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..db.models import GLOBAL_CORRECTIONS
from .matching import Matcher
from .table import table_list, write_table


@dataclass(frozen=True)
class ActiveCorrections:
    table: str                 # the base liblouis table
    path: Path                 # the corrections' liblouis table
    braille: tuple[tuple[str, str], ...]   # (print text, braille), sorted

    @property
    def digest(self) -> str:
        return self.path.stem.removeprefix("corrections-")

    @property
    def tables(self) -> str:
        """The table list for liblouis, as one comma-separated name: corrections first."""
        return ",".join(table_list(self.table, self.path))

    @functools.cached_property
    def matcher(self) -> Matcher:
        return Matcher(p for p, _b in self.braille)


def load(table: str, set_name: str | None = None, *, url: str | None = None
         ) -> ActiveCorrections | None:
    """The corrections for ``table``: the global set, with ``set_name``'s rulings over it
    (None: no correction at all); ``url``: the database (default: the setting)."""
    from .store import listing, read_set

    merged = {r.print_text: r.braille
              for r in listing(set_name=GLOBAL_CORRECTIONS, table=table, url=url)}
    named = read_set(set_name)
    if named != GLOBAL_CORRECTIONS:
        merged.update((r.print_text, r.braille)
                      for r in listing(set_name=named, table=table, url=url))
    if not merged:
        return None
    path = write_table(merged.items(), Path(config.get("data_dir")) / "corrections")
    return ActiveCorrections(table, path, tuple(sorted(merged.items())))
