from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .errors import DomainError
from .forms import PreferencesForm, RateLimitedLoginForm
from .middleware import remember_preferences
from .roles import capability_required, user_roles
from .slots import panels_for


class LoginView(auth_views.LoginView):
    form_class = RateLimitedLoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_GET
def healthz(request):
    """Liveness and readiness: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    return render(request, "home.html", {
        "roles": sorted(user_roles(request.user)),
        "teams": request.user.team_memberships.select_related("team"),
        "panels": panels_for("home", request),
    })


@capability_required("system.health")
def system_health(request):
    return render(request, "system_health.html", {"health": selectors.system_health()})


def notifications(request):
    before = request.GET.get("before", "")
    page = selectors.notifications_page(request.user, before_id=int(before) if before.isdigit() else None)
    return render(request, "notifications.html", {"page": page, "notifications": page["items"]})


@require_POST
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("notifications")


@require_http_methods(["GET", "POST"])
def preferences(request):
    """A person's own settings: how sensitive images are shown, their time zone, when to suggest a
    break. Every signed-in role has this page; a refused value answers 400 with the form."""
    prefs = selectors.preferences_of(request.user)
    initial = {"preview_mode": prefs.preview_mode, "time_zone": prefs.time_zone,
               "break_after_minutes": prefs.break_after_minutes}
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                prefs = services.preferences_update(user=request.user, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_service_errors(exc.field_errors or {None: exc.message})
                status = exc.status_code
            else:
                remember_preferences(request, prefs)
                messages.success(request, "Your preferences are saved.")
                return redirect("preferences")
        else:
            status = 400
    return render(request, "preferences.html", {
        "form": form, "default_break": settings.WELLNESS_BREAK_AFTER_MINUTES, "now": timezone.now(),
    }, status=status)


@require_POST
def break_dismiss(request):
    """Dismiss the break prompt: hidden until the stretch runs another full threshold."""
    services.exposure_break_dismiss(user=request.user, actor=request.user)
    if request.headers.get("X-Requested-With") == "fetch" or request.htmx:
        return HttpResponse(status=204)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "home"
    return redirect(target)
