"""Keyset pages over the API: a cursor that does not decode, or points at no possible row, is the
caller's mistake (400 naming `cursor`), never a 500 or DRF's 404 "Invalid cursor"."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

BIGINT_MAX = 2**63 - 1
INVALID_CURSOR = "Not a cursor this API gave out: start again without it, then follow the `next` links."


class IdCursorPagination(CursorPagination):
    """Newest first by id; `page_size` up to 200."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        if cursor is not None and cursor.position is not None:
            try:
                position = int(cursor.position)
            except ValueError:
                raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
            if not -BIGINT_MAX <= position <= BIGINT_MAX:
                raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        return cursor
