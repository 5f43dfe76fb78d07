"""Request-wide rules: every page needs a login; a missing database answers 503, not 500."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import OperationalError
from django.http import JsonResponse
from django.template.response import SimpleTemplateResponse

from .api_errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, error_body, is_api

# Paths that answer without a session: the login page itself, health checks, static files,
# and the API (DRF authenticates tokens itself and answers 401/403 in JSON).
PUBLIC_PREFIXES = ("/accounts/login/", "/healthz", "/static/", "/api/")


class LoginRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """While PostgreSQL is away, answer 503 with a retry hint; Django reconnects by itself later."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except OperationalError:
            return self._unavailable(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError):
            return self._unavailable(request)
        return None

    def _unavailable(self, request):
        if is_api(request):
            response = JsonResponse(error_body(DATABASE_UNAVAILABLE), status=503)
        else:
            response = SimpleTemplateResponse("503.html", status=503)
            response.render()
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
