"""The ``braillejobs`` command: the Click group and the errors a user can cause.

The commands live beside this module by what they act on: ``jobs`` (documents and jobs),
``corrections`` (transcribers' rulings), ``fleet`` (workers, queues, dead letters, the exporter),
``top`` (the live view) and ``model``
(corpus, training, evaluation). None imports torch at start-up.
"""

from __future__ import annotations

import click

from .. import __version__, formats
from ..config import ConfigError
from ..corrections import CorrectionError
from ..db.session import DatabaseError
from ..jobs import JobError
from ..queue import QueueError
from ..translate.engine import EngineError
from . import corrections, fleet, jobs, model, top
from .terminal import printable

# Errors a user can cause: shown as one line, exit status 1.
USER_ERRORS = (ConfigError, CorrectionError, DatabaseError, EngineError, JobError, QueueError,
               formats.DocumentError)


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(printable(str(exc))) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="braillejobs")
def main() -> None:
    """Batch conversion of English documents to Unified English Braille.

    Settings come from BRAILLEJOBS_* environment variables (see `braillejobs config`).
    """


for _cmd in (jobs.COMMANDS + corrections.COMMANDS + model.COMMANDS + fleet.COMMANDS
             + top.COMMANDS):
    main.add_command(_cmd)


if __name__ == "__main__":
    main()
