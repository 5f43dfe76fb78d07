"""Control characters: one rule for every input that reaches the database.

PostgreSQL refuses NUL in text (a DataError, or psycopg2's ValueError, a 500 if unchecked), and no
identifier or one-line field has a use for any C0 control character or DEL: they hide text in
logs and on screen. Free text (notes, reasons, descriptions) keeps tab and line breaks (CR too,
for CRLF). The validators are RegexValidators, so the OpenAPI schema states the same rule as a
`pattern`.
"""

import re

from django.core.validators import RegexValidator

SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FREE_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

SINGLE_LINE_MESSAGE = "Control characters (NUL, tab, line breaks and the like) are not allowed here."
FREE_TEXT_MESSAGE = "Control characters other than tab and line breaks (such as NUL) are not allowed."

single_line = RegexValidator(r"^[^\x00-\x1f\x7f]*\Z", message=SINGLE_LINE_MESSAGE, code="control_characters")
free_text = RegexValidator(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z", message=FREE_TEXT_MESSAGE,
                           code="control_characters")


def has_control_characters(value: str, *, free: bool = False) -> bool:
    return bool((FREE_TEXT_CONTROL if free else SINGLE_LINE_CONTROL).search(value))
