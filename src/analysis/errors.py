"""One error type for bad input: the CLI prints its message on one line and exits non-zero."""


class InputError(Exception):
    """A file, table or column is missing or malformed. The message names it."""


class SourceUnavailable(Exception):
    """A remote source (CBS) could not be reached in time."""


def technisch(detail: object, limit: int = 200) -> str:
    """A library's own (English) message, marked as such and put last in a Dutch error line:
    ``technische melding: <text>``. Users read the Dutch part; the original stays for debugging."""
    text = " ".join(str(detail).split())
    return f"technische melding: {text[:limit]}"
