"""The one error a document can cause."""


class DocumentError(ValueError):
    """A document cannot be converted; the message names the file, says why and what to do."""
