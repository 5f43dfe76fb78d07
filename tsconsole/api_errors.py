"""The API's one error shape, produced here and nowhere else.

Every 4xx/5xx answer under /api/ is `{"detail": "<a sentence a person can act on>", "errors":
{"<field>": ["..."]}}` (`errors` is `{}` when no field is to blame), whether it comes from
DRF (validation, authentication, permissions, throttling, parsing, content negotiation), from a
service's DomainError, from Django before a view runs (an unknown URL, a body over the size limit)
or from an unexpected failure (500, logged with its traceback). A missing or bad token answers
401 with `WWW-Authenticate: Token`; a database that is away answers 503 with `Retry-After`.
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.db import DatabaseError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response

from .errors import DomainError

logger = logging.getLogger("tsconsole.api")

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly."


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def error_body(detail, errors: dict | None = None) -> dict:
    return {"detail": str(detail), "errors": _plain(errors or {})}


def _plain(value):
    """ErrorDetail strings, lazy translations and nested lists/dicts as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _validation_body(detail) -> dict:
    if isinstance(detail, dict):
        errors = detail
    else:
        errors = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    fields = [name for name in errors if name != "non_field_errors"]
    if fields:
        message = f"Some fields are not valid: {', '.join(fields)}. Nothing was changed."
    else:
        first = errors["non_field_errors"]
        message = str(first[0]) if isinstance(first, list) and first and not isinstance(first[0], dict | list) \
            else "The request is not valid. Nothing was changed."
    return error_body(message, errors)


def _django_error(exc):
    """Exceptions Django raises while reading a request, as the DRF exception they stand for."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The request body is over the size limit: send less data per request.")
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError("The request has too many fields or files.")
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request could not be read.")
    return exc


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception a view raises, in the one shape (None: a 500)."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.message, exc.field_errors), status=exc.status_code)
    if isinstance(exc, OperationalError):
        return Response(error_body(DATABASE_UNAVAILABLE), status=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, DatabaseError):
        return None  # a real bug: a 500 (JSON, from server_error below), logged with its traceback
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES on import, and the parser
    # module imports this one.
    from rest_framework.views import exception_handler as drf_exception_handler

    exc = _django_error(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = error_body(detail or exc.__class__.__name__)
    return response


# --------------------------------------------------------------------------- Django-level handlers
# Django answers some requests before any API view runs (an unknown URL, a path converter that does
# not match, an unreadable body) or after one failed unexpectedly. Under /api/ those answers are
# JSON in the same shape; elsewhere they are Django's own pages (templates/404.html, 500.html).


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, detail: str, errors: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(detail, errors), status=status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, "The request body is over the size limit: send less data per request.")
        return json_error(400, "The request could not be read.")
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if is_api(request):
        return json_error(403, "You do not have permission to do this.")
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return json_error(404, f"There is nothing at {request.path}: check the path and the id in it.")
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_api(request):
        return json_error(500, "Something went wrong on our side; it has been logged. Try again later.")
    return defaults.server_error(request, template_name)
