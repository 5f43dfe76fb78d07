"""The API's JSON renderer: DRF's JSONRenderer output, written by orjson.

Bytes are the same as DRF's compact UTF-8 JSON: the same separators, datetimes, dates, times,
decimals and UUIDs through DRF's own encoder (orjson hands them over instead of formatting them
itself), U+2028/U+2029 escaped. What orjson cannot write as DRF would (an `indent` asked for in
the Accept header, integers beyond 64 bits) goes to DRF's renderer unchanged. One difference: a
float NaN or infinity, which no response should hold, is written as null where DRF's strict
renderer would fail the request with a 500.
"""

import orjson
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_default = JSONEncoder().default
_LINE_SEPARATORS = (b"\xe2\x80\xa8", b"\xe2\x80\xa9")


class JSONRenderer(DrfJSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None or not self.compact \
                or self.ensure_ascii:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in out and (_LINE_SEPARATORS[0] in out or _LINE_SEPARATORS[1] in out):
            out = out.replace(_LINE_SEPARATORS[0], b"\\u2028").replace(_LINE_SEPARATORS[1], b"\\u2029")
        return out

