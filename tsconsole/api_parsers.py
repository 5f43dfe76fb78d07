"""The API's JSON parser: strict JSON with limits on body size and nesting depth.

Python's json module recurses once per nesting level, so a few kilobytes of `[` exhaust the stack
(RecursionError, a 500) before any serializer sees the data. No request of this API nests deeper
than a handful of levels: the parser answers 400 for anything deeper than MAX_JSON_DEPTH, whether
the decoder itself gives up (RecursionError) or the decoded value is checked level by level.
"""

import json
import re

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from .api_errors import PayloadTooLarge

MAX_JSON_DEPTH = 32
# A JSON number of 19 or more digits (first, or after `:`, `[` or `,`); strings of digits are left alone.
_LONG_NUMBER = re.compile(rb"(?:^|[:\[,])\s*-?\d{19}")



def json_depth(value, *, stop_after: int | None = None) -> int:
    """How deep arrays and objects nest in a decoded JSON value (0 for a scalar), walked level by
    level without recursion; counting stops once `stop_after` is passed."""
    depth, level = 0, [value] if isinstance(value, dict | list) else []
    while level:
        depth += 1
        if stop_after is not None and depth > stop_after:
            break
        deeper = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            deeper.extend(child for child in children if isinstance(child, dict | list))
        level = deeper
    return depth


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def _size_hint(max_bytes: int) -> str:
    if max_bytes >= 1024 * 1024:
        return f"{max_bytes // (1024 * 1024)} MB"
    return f"{max_bytes // 1024} KB"


class JSONParser(BaseParser):
    """application/json for every endpoint. Refuses NaN/Infinity, bodies over `max_bytes` (413) and
    nesting deeper than MAX_JSON_DEPTH (400)."""

    media_type = "application/json"
    max_bytes: int | None = None  # None: settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    too_large_hint = "send less data per request"

    def limit(self) -> int:
        return self.max_bytes if self.max_bytes is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(self, stream, media_type=None, parser_context=None):
        limit = self.limit()
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise self.too_large(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise self.too_large(limit)
        too_deep = ParseError(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels; no request of this API needs that.")
        try:
            # orjson reads well-formed UTF-8 JSON several times faster; whatever it refuses (bad
            # JSON, NaN, lone surrogates, other encodings) is read again by the json module, so what
            # is accepted and every message stay as they were. orjson reads integers beyond 64 bits
            # as floats where the json module keeps them exact: a body with a number of 19 digits
            # or more goes to the json module directly.
            if _LONG_NUMBER.search(raw):
                raise orjson.JSONDecodeError("long number", "", 0)
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:
                value = json.loads(raw, parse_constant=_no_constants)
            except RecursionError:
                raise too_deep
            except ValueError as exc:  # JSONDecodeError and undecodable bytes alike
                raise ParseError(f"JSON parse error - {exc}")
        if json_depth(value, stop_after=MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise too_deep
        return value

    def too_large(self, limit: int) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is over {_size_hint(limit)}: {self.too_large_hint}.")
