"""``python -m braillejobs.cli``: the same as the ``braillejobs`` command."""

from .root import main

main(prog_name="braillejobs")
