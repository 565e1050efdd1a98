"""Errors that name the file, row, column and value at fault.

Readers collect every problem they find in one pass and raise a single
:class:`DataValidationError`, so a user fixes a file once rather than one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Longest value or column name echoed in a message, in characters: a cell of a broken file
#: can hold anything (a whole pasted document), and the message must stay readable.
MAX_ECHO = 120


def echo(value: object, limit: int = MAX_ECHO) -> str:
    """``repr(value)``, shortened to about ``limit`` characters for a message: a long text is
    cut and its length given, e.g. ``'xxxxxx…' (10,000 characters)``."""
    text = repr(value)
    if len(text) <= limit:
        return text
    n = len(value) if isinstance(value, str) else len(text)
    return f"{text[: limit - 1]}…{text[0] if isinstance(value, str) else ''} ({n:,} characters)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    ``row`` is the 1-based line number in the file as a text editor shows it (header lines
    included), or ``None`` when the problem is with the file or a whole column.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {echo(self.column)}")
        text = ", ".join(where) + f": {self.message}"
        if self.value is not None:
            text += f" (value {echo(self.value)})"
        return text


class MappingError(Exception):
    """Base class of the errors the CLI reports without a traceback."""


class DataValidationError(MappingError):
    """An input failed validation; carries every :class:`Problem` found."""

    def __init__(self, problems: list[Problem], max_shown: int = 25):
        if not problems:
            raise ValueError("DataValidationError needs at least one problem")
        self.problems = list(problems)
        shown = [f"  - {p}" for p in self.problems[:max_shown]]
        more = len(self.problems) - max_shown
        if more > 0:
            shown.append(f"  … and {more} more")
        super().__init__(f"{len(self.problems)} problem(s) found:\n" + "\n".join(shown))

    @classmethod
    def single(cls, file: str | Path, message: str, **kw) -> DataValidationError:
        return cls([Problem(str(file), message, **kw)])
