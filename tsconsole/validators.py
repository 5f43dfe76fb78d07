"""Control characters: one rule for every input that reaches the database, from forms, query
strings and the API alike.

PostgreSQL refuses NUL in text (a DataError, or psycopg2's ValueError: a 500 if unchecked), and no
identifier or one-line field has a use for any control character (Unicode category Cc: C0, DEL and
C1): they hide text in logs and on screen, or are a paste accident. Free text (notes, reasons,
descriptions) keeps tab and line breaks (CR too, for CRLF). The API's validators are
RegexValidators, so the OpenAPI schema states the same rule as a `pattern`.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible

SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
FREE_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

SINGLE_LINE_MESSAGE = "Control characters (NUL, tab, line breaks and the like) are not allowed here."
FREE_TEXT_MESSAGE = "Control characters other than tab and line breaks (such as NUL) are not allowed."

single_line = RegexValidator(r"^[^\x00-\x1f\x7f-\x9f]*\Z", message=SINGLE_LINE_MESSAGE, code="control_characters")
free_text = RegexValidator(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*\Z", message=FREE_TEXT_MESSAGE,
                           code="control_characters")


def has_control_characters(value: str, *, free: bool = False) -> bool:
    return bool((FREE_TEXT_CONTROL if free else SINGLE_LINE_CONTROL).search(value))


def control_character(value: str, *, multiline: bool = True) -> str | None:
    """The first refused control character in VALUE, or None."""
    found = (FREE_TEXT_CONTROL if multiline else SINGLE_LINE_CONTROL).search(value)
    return found.group() if found else None


def control_free(value: str) -> str:
    """VALUE with its control characters dropped, for echoing it back in a message."""
    return SINGLE_LINE_CONTROL.sub("", value)


def describe(char: str) -> str:
    return "a NUL byte" if char == "\x00" else f"the control character U+{ord(char):04X}"


@deconstructible
class NoControlCharacters:
    """Form-field validator: refuse control characters (tab and line breaks allowed when multiline),
    naming the one found."""

    def __init__(self, multiline: bool = True):
        self.multiline = multiline

    def __call__(self, value):
        char = control_character(str(value), multiline=self.multiline)
        if char is not None:
            raise ValidationError(f"Remove {describe(char)} from this text and try again.", code="control_character")

    def __eq__(self, other):
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline
