"""Request-wide rules: every page needs a login; a missing database answers 503, not 500; times
are shown in the reader's zone."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import OperationalError
from django.http import JsonResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone

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
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": "The database is unavailable; try again shortly."}, status=503)
        else:
            response = SimpleTemplateResponse("503.html", status=503)
            response.render()
        response["Retry-After"] = "5"
        return response


TZ_COOKIE = "tz"


class TimezoneMiddleware:
    """Show times in the reader's zone: the IANA name the browser reports (console.js writes it to
    the `tz` cookie), else the server's TIME_ZONE. An unknown name is ignored, never an error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TZ_COOKIE, "")
        zone = None
        if name and len(name) <= 64:
            try:
                zone = zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
