"""One exception tree, and the one table that maps each error to an exit code and message.

Exit codes of every `minutes` command (the README lists them):
    0  ok
    1  some files (or fetched items) failed, or `check` found problems; the rest was done
    2  usage or store: bad options or input (a date, a manifest, a rule file, an unknown
       record), or a store that cannot be opened, read or written, or does not exist
    3  store locked: another live writer holds it (try again later)
    4  model: the embedding model cannot be loaded offline
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STORE = 2
EXIT_LOCKED = 3
EXIT_MODEL = 4


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


class StoreLocked(StoreError):
    """Another live writer holds the store lock."""


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


# (error class, exit code, what the message starts with): the first class that matches wins.
ERROR_TABLE: tuple[tuple[type, int, str], ...] = (
    (StoreLocked, EXIT_LOCKED, "store locked"),
    (StoreError, EXIT_STORE, "store error"),
    (ModelError, EXIT_MODEL, "model error"),
    (ReadError, EXIT_FAILED, "cannot read"),
    (FetchError, EXIT_USAGE, "cannot fetch"),  # a run that cannot start; failed items are in its summary
    (RulesError, EXIT_USAGE, "bad rules"),
    (ManifestError, EXIT_USAGE, "bad manifest"),
    (MinutesError, EXIT_USAGE, "error"),
)


def exit_code(exc: BaseException) -> int:
    for cls, code, _ in ERROR_TABLE:
        if isinstance(exc, cls):
            return code
    return EXIT_USAGE


def describe(exc: BaseException) -> str:
    """The one-line message a person sees: "store locked: <the error's own words>"."""
    for cls, _, label in ERROR_TABLE:
        if isinstance(exc, cls):
            return f"{label}: {exc}"
    return str(exc)
