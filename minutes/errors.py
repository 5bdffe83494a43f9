"""One exception tree. The CLI turns any MinutesError into a clean message."""
from __future__ import annotations


class MinutesError(Exception):
    """Base class for every error the library raises on purpose."""


class ReadError(MinutesError):
    """A source file could not be read. The message names the file and the cause."""

    def __init__(self, path: str, cause: str):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause

    def __reduce__(self):  # so worker processes can hand it back
        return (type(self), (self.path, self.cause))


class UnsupportedFormat(ReadError):
    """The file is of a format no reader handles."""


class ManifestError(MinutesError):
    """The metadata manifest CSV is malformed."""


class StoreError(MinutesError):
    """The store cannot be opened, read or written."""


class ModelError(MinutesError):
    """The embedding model cannot be loaded offline."""


class RulesError(MinutesError):
    """A pattern file under extract/ is malformed."""


class LimitExceeded(ReadError):
    """A source file is past a configured read limit: size, pages or time."""


class ReaderCrashed(ReadError):
    """The worker process reading a file died (a crash in a parser, or killed for memory)."""


class FetchError(MinutesError):
    """A URL could not be fetched. The message names the URL and the cause."""

    def __init__(self, url: str, cause: str):
        super().__init__(f"{url}: {cause}")
        self.url = url
        self.cause = cause

    def __reduce__(self):
        return (type(self), (self.url, self.cause))
