"""Text hygiene shared by every input path: control characters refused before they reach PostgreSQL.

PostgreSQL cannot store NUL in text columns (the driver raises instead of saving), and other
control characters in names, identifiers and one-line fields are almost always an attack or a
paste accident. Free text may keep tab, line feed and carriage return; one-line values keep none.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

MULTILINE_ALLOWED = frozenset("\t\n\r")


def control_character(value: str, *, multiline: bool = True) -> str | None:
    """The first refused control character in VALUE (Unicode category Cc), or None."""
    allowed = MULTILINE_ALLOWED if multiline else frozenset()
    for char in value:
        if char not in allowed and unicodedata.category(char) == "Cc":
            return char
    return None


def control_free(value: str) -> str:
    """VALUE with its control characters dropped, for echoing it back in a message."""
    return "".join(char for char in value if unicodedata.category(char) != "Cc")


def describe(char: str) -> str:
    return "a NUL byte" if char == "\x00" else f"the control character U+{ord(char):04X}"


@deconstructible
class NoControlCharacters:
    """Django validator: refuse control characters (tab and line breaks allowed when multiline)."""

    def __init__(self, multiline: bool = True):
        self.multiline = multiline

    def __call__(self, value):
        char = control_character(str(value), multiline=self.multiline)
        if char is not None:
            raise ValidationError(f"Remove {describe(char)} from this text and try again.", code="control_character")

    def __eq__(self, other):
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline
