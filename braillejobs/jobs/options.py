"""What a user asks of a job: its options (stored with it, part of the dedup key), and the error
that says when a request cannot be done."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from .. import config, formats
from ..translate.engine import ENGINE_NAMES, TABLES


class JobError(RuntimeError):
    """Something the user asked for cannot be done; the message says what to do."""


@dataclass(frozen=True)
class JobOptions:
    format: str
    engine: str
    table: str
    cells_per_line: int
    lines_per_page: int
    duplex: bool
    volume_sheets: int
    # A named set of transcribers' corrections applied over the global set (None: the global
    # set alone).
    corrections: str | None = None

    @classmethod
    def build(cls, format: str | None = None, engine: str | None = None,
              table: str | None = None, cells_per_line: int | None = None,
              lines_per_page: int | None = None, duplex: bool | None = None,
              volume_sheets: int | None = None, corrections: str | None = None
              ) -> "JobOptions":
        """Options from the arguments, the settings filling what is not given; validated.
        A corrections set must hold corrections for the table (a misspelt set name would
        otherwise apply nothing, silently)."""
        def pick(value, name):
            return config.get(name) if value is None else value

        opts = cls(format=pick(format, "format"), engine=pick(engine, "engine"),
                   table=pick(table, "table"),
                   cells_per_line=pick(cells_per_line, "cells_per_line"),
                   lines_per_page=pick(lines_per_page, "lines_per_page"),
                   duplex=bool(duplex), volume_sheets=pick(volume_sheets, "volume_sheets"),
                   corrections=corrections or None)
        opts.validate()
        if opts.corrections is not None:
            _check_set(opts.corrections, opts.table)
        return opts

    def validate(self) -> None:
        if self.format not in formats.FORMATS:
            raise JobError(f"unknown format {self.format!r}: choose one of "
                           f"{', '.join(formats.FORMATS)}")
        if self.engine not in ENGINE_NAMES:
            raise JobError(f"unknown engine {self.engine!r}: choose one of "
                           f"{', '.join(ENGINE_NAMES)}")
        if self.table not in TABLES:
            raise JobError(f"unknown table {self.table!r}: choose one of {', '.join(TABLES)}")
        try:
            formats.check_options(self.render_options())
        except formats.DocumentError as exc:
            raise JobError(str(exc)) from None

    def render_options(self) -> formats.RenderOptions:
        return formats.RenderOptions.of(asdict(self))

    def key(self) -> str:
        """What makes two results of the same source interchangeable (dedup key). The
        corrections in force when a document is translated are joined to it then
        (:func:`braillejobs.pipeline.result_key`); jobs naming no set keep the key they had
        before sets existed."""
        fields = asdict(self)
        if fields["corrections"] is None:
            del fields["corrections"]
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _check_set(name: str, table: str) -> None:
    from ..corrections import CorrectionError
    from ..corrections.store import listing, read_set

    try:
        name = read_set(name)
    except CorrectionError as exc:
        raise JobError(f"--corrections: {exc}") from None
    if not listing(set_name=name, table=table):
        raise JobError(f"the corrections set {name!r} holds no correction for {table}: check "
                       "the name (`braillejobs corrections list --set NAME`), or add some "
                       "first")
