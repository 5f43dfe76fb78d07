"""Insights over the API: DSA statements of reasons and the transparency report.

`GET /api/v1/dsa/statements/?since=&until=` pages statements by application time with an opaque
cursor (keyset on (applied_at, id): flat cost at any depth). `GET /api/v1/insights/transparency-report/
?from=&to=` answers JSON, or CSV with `format=csv`. Bad input answers 400 in the console's one shape.
"""

import base64
import csv
import io
import json

from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from tsconsole.api_renderers import JSONRenderer
from tsconsole.errors import InvalidInput
from tsconsole.roles import Can

from . import selectors
from .filters import period_from, shared_period_figures
from .transparency import report_rows, transparency_report

ERROR = inline_serializer("InsightsError", {
    "detail": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False),
})
REFUSED = {400: OpenApiResponse(ERROR, description="A malformed period, cursor or limit."),
           403: OpenApiResponse(ERROR, description="Your role may not read this.")}
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class CsvRenderer(BaseRenderer):
    """Renders a list of rows (the view's data) as CSV; an error body as a one-column CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        writer = csv.writer(out)
        if isinstance(data, dict):  # an error answer
            writer.writerow(["detail"])
            writer.writerow([data.get("detail", "")])
        else:
            writer.writerows(data)
        return out.getvalue().encode()


def _encode_cursor(applied_at, pk) -> str:
    raw = json.dumps([applied_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(value: str):
    try:
        padded = value + "=" * (-len(value) % 4)
        applied, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = parse_datetime(applied)
        if moment is None or not isinstance(pk, int):
            raise ValueError
        return moment, pk
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not valid: use the `next` link of the previous page.",
                           field_errors={"cursor": ["Not a cursor this API gave out."]})


class StatementList(APIView):
    permission_classes = [Can("dsa.statements")]

    @extend_schema(
        summary="DSA statements of reasons",
        description="Statements of reasons in the EU Transparency Database API v2 format, by application time. "
                    "`since` / `until` take a date or an ISO 8601 datetime (until exclusive; a date means the whole day).",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.STR), OpenApiParameter("until", OpenApiTypes.STR),
            OpenApiParameter("cursor", OpenApiTypes.STR), OpenApiParameter("limit", OpenApiTypes.INT),
        ],
        responses={200: inline_serializer("StatementPage", {
            "results": serializers.ListField(child=serializers.DictField()),
            "next": serializers.CharField(allow_null=True),
        }), **REFUSED},
    )
    def get(self, request):
        period = period_from(request.query_params, start_key="since", end_key="until", default_days=36500,
                             max_days=36600)
        limit_raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
            raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}.",
                               field_errors={"limit": [f"From 1 to {MAX_LIMIT}."]})
        after = _decode_cursor(request.query_params["cursor"]) if request.query_params.get("cursor") else None
        rows = selectors.statements_page(period=period, after=after, limit=int(limit_raw))
        next_url = None
        if len(rows) > int(limit_raw):
            rows = rows[: int(limit_raw)]
            query = request.query_params.copy()
            query["cursor"] = _encode_cursor(rows[-1][1], rows[-1][0])
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        # the statements are stored as the JSON the database expects: written out as they are
        body = '{"results":[' + ",".join(r[2] for r in rows) + '],"next":' + json.dumps(next_url) + "}"
        return HttpResponse(body, content_type="application/json")


class TransparencyReport(APIView):
    permission_classes = [Can("insights.transparency")]
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Transparency report (DSA Art. 15, 24)",
        parameters=[OpenApiParameter("from", OpenApiTypes.STR), OpenApiParameter("to", OpenApiTypes.STR),
                    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])],
        responses={200: OpenApiTypes.OBJECT, **REFUSED},
    )
    def get(self, request):
        period = period_from(request.query_params, default_days=365, max_days=400)
        # a year of notices and decisions: shared for a minute with anyone asking for the same period
        report, _ = shared_period_figures("transparency", request.query_params, lambda: transparency_report(period))
        if getattr(request.accepted_renderer, "format", "") == "csv":
            name = f"transparency-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
            return Response(report_rows(report), headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return Response(report)
