"""User-facing errors: one message that names the offending field and the fix."""

from __future__ import annotations


class WannError(Exception):
    """Base class for errors the CLI prints as one clean line (no traceback)."""


class ConfigError(WannError, ValueError):
    """Bad input in an experiment/study file or on the command line.

    `field` is the dotted path of the offending setting (e.g. ``search.population``) and `source`
    the file it came from, when there is one.
    """

    def __init__(self, field: str, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {message}")


class GenomeError(WannError, ValueError):
    """A genome (or genome file) that is not a valid feed-forward network."""
