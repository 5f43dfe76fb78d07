"""Request-wide rules: every page needs a login; a missing database answers 503, not 500; control
characters in page input answer 400, not 500; times are shown in the reader's zone."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from .api_errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, error_body, is_api
from .selectors import preferences_of, preferences_snapshot
from .validators import control_character, control_free, describe

# Paths that answer without a session: the login page itself, health checks, static files,
# and the API (DRF authenticates tokens itself and answers 401/403 in JSON).
PUBLIC_PREFIXES = ("/accounts/login/", "/login/", "/favicon.ico", "/healthz", "/static/", "/api/")


class LoginRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: public paths (the API above all) never load the session user here.
        if not request.path.startswith(PUBLIC_PREFIXES) and not request.user.is_authenticated:
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


class ControlCharacterMiddleware:
    """Pages refuse control characters in the path, query and form fields with a 400 that names the field.

    PostgreSQL cannot store NUL, and no page field is meant to hold other control characters
    (tab and line breaks excepted), so every HTML request is checked here once, with the shared
    rule in tsconsole/validators.py, instead of in each form and view. The API checks its own
    input in its serializers and answers in its JSON error shape, so it is skipped here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            problem = self._first_problem(request)
            if problem is not None:
                return self._refuse(request, *problem)
        return self.get_response(request)

    @staticmethod
    def _first_problem(request):
        char = control_character(request.path, multiline=False)
        if char is not None:
            return "the address", char
        sources = [request.GET]
        if request.method == "POST":
            sources.append(request.POST)
        for source in sources:
            for name, values in source.lists():
                for value in [name, *values]:
                    char = control_character(value)
                    if char is not None:
                        return f"“{control_free(name)}”", char
        if request.method == "POST":
            for name, upload in request.FILES.items():
                char = control_character(upload.name or "", multiline=False)
                if char is not None:
                    return f"the name of the file in “{control_free(name)}”", char
        return None

    @staticmethod
    def _refuse(request, field: str, char: str):
        message = f"The request was refused: {field} contains {describe(char)}. Remove it and try again."
        if request.headers.get("HX-Request"):
            response = HttpResponse(
                format_html('<ul class="messages" role="status"><li class="msg-error">{}</li></ul>', message),
                status=400,
            )
            # htmx shows the message at the top of the page instead of in the form's own target.
            response["HX-Retarget"] = "main"
            response["HX-Reswap"] = "afterbegin"
            return response
        response = SimpleTemplateResponse("400.html", {"message": message}, status=400)
        response.render()
        return response


TZ_COOKIE = "tz"
PREFS_SESSION_KEY = "tsc_prefs"


def remember_preferences(request, prefs) -> dict:
    """Keep the preferences every page needs in the session, so pages read them without a query.
    Written at sign-in and whenever the person saves their preferences."""
    snapshot = preferences_snapshot(prefs)
    request.session[PREFS_SESSION_KEY] = snapshot
    return snapshot


def session_preferences(request) -> dict:
    """The signed-in person's preferences snapshot (loaded once for sessions that predate it)."""
    snapshot = request.session.get(PREFS_SESSION_KEY) if hasattr(request, "session") else None
    if snapshot is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return {}
        snapshot = remember_preferences(request, preferences_of(user))
    return snapshot


def _zone(name: str):
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class TimezoneMiddleware:
    """Show times in the reader's zone: the one they chose in Preferences, else the IANA name the
    browser reports (console.js writes it to the `tz` cookie), else the server's TIME_ZONE. An
    unknown name is ignored, never an error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = _zone(session_preferences(request).get("tz", ""))
        if zone is None:
            zone = _zone(request.COOKIES.get(TZ_COOKIE, ""))
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
