"""One error type for bad input: the CLI prints its message on one line and exits non-zero."""


class InputError(Exception):
    """A file, table or column is missing or malformed. The message names it."""


class SourceUnavailable(Exception):
    """A remote source (CBS) could not be reached in time."""
