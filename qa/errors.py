"""Errors the library raises; each message says what is wrong and what to do."""


class QAError(Exception):
    """Base class: a problem the user can fix; the CLI prints it as one line."""


class InvalidInput(QAError, ValueError):
    """An argument is out of range or malformed (an empty question, an unknown option value).

    ``argument`` names the argument at fault where one is (``since``, ``until``, ``source``; ``filter``
    when the filters together let no document through), so that a form can show the message there.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class IndexNotFound(QAError):
    """No index exists in the folder given."""


class IndexMismatch(QAError):
    """The index was built with another model or format version."""


class IndexCorrupt(QAError):
    """The index folder is damaged."""


class IndexUnwritable(QAError):
    """The index folder could not be written (no space, read-only, no permission); the index stays as it was."""


class IndexLocked(QAError):
    """Another process is writing the index."""


class EmptyCorpus(QAError):
    """Nothing indexable was found at the paths given; ``skipped`` says why for each file left out."""

    def __init__(self, message: str, skipped: list | tuple = ()) -> None:
        super().__init__(message)
        self.skipped = list(skipped)


class UnsupportedDocument(QAError):
    """A file could not be read as a document.

    ``transient`` failures (the reader process could not start) are not held against the file:
    it is tried again on the next run even if unchanged.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class ModelUnavailable(QAError):
    """The embedding model could not be loaded."""


class PathNotFound(QAError):
    """A file or folder given to the indexer does not exist."""
