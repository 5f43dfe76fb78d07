from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .forms import RateLimitedLoginForm
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
