"""liblouis as an engine: the reference translator and the last step of the fallback chain."""

from __future__ import annotations

import threading
from typing import Sequence

from .engine import EngineError, LineTranslation, check_table

_louis_lock = threading.Lock()  # liblouis keeps global state; one call at a time per process


def load_louis():
    try:
        import louis  # type: ignore
    except ImportError:
        raise EngineError(
            "the liblouis Python module is not importable: install Debian's liblouis20 "
            "liblouis-data python3-louis and run scripts/setup.sh, which links it into the "
            "virtualenv") from None
    return louis


def translate_with_positions(table: str, text: str, typeform: Sequence[int] | None = None
                             ) -> tuple[str, list[int]]:
    """Unicode braille for ``text`` and, for each output cell, the input index it came from."""
    louis = load_louis()
    mode = louis.dotsIO | louis.ucBrl
    with _louis_lock:
        braille, in_pos, _out_pos, _cursor = louis.translate(
            [table], text, typeform=list(typeform) if typeform is not None else None, mode=mode)
    return braille, list(in_pos)


class LouisEngine:
    name = "louis"

    def __init__(self, table: str):
        self.table = check_table(table)
        self._louis = load_louis()
        self._mode = self._louis.dotsIO | self._louis.ucBrl
        try:
            self._louis.checkTable([self.table])
        except RuntimeError:
            raise EngineError(f"liblouis cannot load table {table!r}: install liblouis-data") \
                from None

    def translate_text(self, line: str, typeform: Sequence[int] | None = None) -> str:
        tf = list(typeform) if typeform is not None else None
        with _louis_lock:
            return self._louis.translateString([self.table], line, typeform=tf, mode=self._mode)

    def translate_lines(self, lines: Sequence[str],
                        typeforms: Sequence[Sequence[int] | None] | None = None
                        ) -> list[LineTranslation]:
        out = []
        for i, line in enumerate(lines):
            tf = typeforms[i] if typeforms is not None else None
            out.append(LineTranslation(self.translate_text(line, tf),
                                       {"louis": len(line)} if line else {}))
        return out
