"""Transcribers' corrections: how a word or a phrase must be written in braille.

A correction is print text, a table and the braille it must become, kept in a named set
(``global``, which every job uses, or one per collection or customer), with a note, an author,
when it was made and where it came from. ``braille`` reads braille given as Unicode cells or as
BRF ASCII; ``check`` refuses braille that liblouis does not read back as the print text;
``store`` keeps them in the database; ``files`` reads and writes JSON Lines and CSV; ``learn``
proposes them from a transcriber's edited braille file.
"""

from __future__ import annotations


class CorrectionError(ValueError):
    """A correction, or a file of them, cannot be used; the message says why and what to do."""
