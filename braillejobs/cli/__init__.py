"""The command-line faces of braillejobs (the ``braillejobs`` console script is ``main``).

``main`` is imported on first use, so that code which only needs the terminal helpers
(``cli.terminal``: the workers' log lines) does not build the command tree.
"""

from __future__ import annotations

__all__ = ["main"]


def __getattr__(name: str):
    if name == "main":
        from .root import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
