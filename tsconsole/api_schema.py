"""The OpenAPI schema, told truthfully in one place (drf-spectacular's AutoSchema, extended).

Views describe their success answers; this class adds what every view shares, so that no
operation's documentation forgets it:

- the error answers each operation can give, all in the one error shape of api_errors.py: 400 (a
  body, query or path value the server refuses), 401 and 403 (authentication, role, CSRF), 404 (an
  id in the path), 409 (a state that does not allow the change), 413 and 415 (the body's size and
  type), 429 (throttled views), 503 (the database is away);
- `nullable` on response fields whose model column is nullable (an unassigned case's `assignee`,
  a top-level category's `parent`), which read-only related fields do not say by themselves;
- `minItems: 1` on request lists that refuse to be empty (`allow_empty=False`);
- `anyOf`, not `oneOf`, for "blank or matching a pattern".

Schemathesis (tests/tsconsole/test_api_contract.py) holds the server to this schema.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
BLANK = {"type": "string", "maxLength": 0}

ERROR_DESCRIPTIONS = {
    400: "The request is not valid: `detail` says why, `errors` names each field. Nothing was changed.",
    401: "No valid credentials: send `Authorization: Token <key>` (see POST /api/v1/auth/token/).",
    403: "Your role, team or the two-person rule does not allow this.",
    404: "There is no such object, or it is not one you may see.",
    409: "The object is not in a state that allows this (for example someone else holds the case).",
    413: "The request body is over the size limit.",
    415: "The request body is not in a media type this operation reads.",
    429: "Too many requests: wait for the number of seconds in `Retry-After`.",
    503: "The database is unavailable: retry after the number of seconds in `Retry-After`.",
}


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    detail = serializers.CharField(help_text="What went wrong and what to do about it, for a person.")
    errors = serializers.DictField(
        help_text="Messages by field name (`non_field_errors` for the request as a whole); {} when no field "
                  "is to blame.",
    )


def error_statuses(view, method: str, operation: dict) -> list[int]:
    """The error statuses an operation can answer, from what it reads and who may call it."""
    statuses = [503]
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation or method in ("POST", "PUT", "PATCH")
    if has_body or any(p.get("in") == "query" or p.get("schema", {}).get("type") != "integer" for p in params):
        statuses.append(400)
    if getattr(view, "permission_classes", None):
        statuses += [401, 403]
    if any(p.get("in") == "path" for p in params):
        statuses.append(404)
    if method in UNSAFE and getattr(view, "permission_classes", None):
        statuses.append(409)
    if has_body:
        statuses += [413, 415]
    if getattr(view, "throttle_classes", None):
        statuses.append(429)
    return sorted(statuses)


def _model_field(field):
    parent = field.parent
    if isinstance(parent, serializers.ListSerializer):
        parent = parent.parent
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in error_statuses(self.view, self.method, operation):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), str(code))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema is None:
            return schema
        if direction == "response" and not isinstance(field, serializers.ManyRelatedField):
            model_field = _model_field(field)
            if model_field is not None and getattr(model_field, "null", False):
                schema = self._nullable(schema)
        if (direction == "request" and getattr(field, "allow_empty", True) is False
                and isinstance(field, serializers.ListSerializer | serializers.ListField
                               | serializers.ManyRelatedField)):
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if any(branch == BLANK for branch in schema.get("oneOf", ())):
            # drf-spectacular writes "blank, or the pattern" as oneOf; "" matches both when the
            # pattern allows it (ours do), which makes every blank value invalid: it is anyOf.
            schema["anyOf"] = schema.pop("oneOf")

    @staticmethod
    def _nullable(schema: dict) -> dict:
        if "$ref" in schema:
            # OpenAPI 3.0 ignores siblings of $ref: wrap it.
            return {"allOf": [{"$ref": schema.pop("$ref")}], **schema, "nullable": True}
        return {**schema, "nullable": True}
