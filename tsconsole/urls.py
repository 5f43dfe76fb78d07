from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views, views_outbox
from .api import TokenView
from .forms import ThrottledAdminLoginForm

admin.site.login_form = ThrottledAdminLoginForm

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include("cases.api.urls")),
    path("", include("enforcement.api_urls")),
    path("", include("appeals.api_urls")),
    path("", include("insights.api_urls")),
    path("", include("qa.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("health/", views.system_health, name="system-health"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("preferences/", views.preferences, name="preferences"),
    path("wellness/break/dismiss/", views.break_dismiss, name="wellness-break-dismiss"),
    path("deliveries/", views_outbox.outbox_list, name="outbox-list"),
    path("deliveries/retry-dead/", views_outbox.outbox_retry_dead, name="outbox-retry-dead"),
    path("deliveries/<int:pk>/", views_outbox.outbox_detail, name="outbox-detail"),
    path("deliveries/<int:pk>/retry/", views_outbox.outbox_retry, name="outbox-retry"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    # The address people type: signing in there must not end on a page that does not exist.
    path("login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    # Pages that are not the console's own (the admin, the API docs) name no icon: browsers ask here.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("cases.urls")),
    path("", include("enforcement.urls")),
    path("", include("appeals.urls")),
    path("", include("insights.urls")),
    path("", include("qa.urls")),
]

# Under /api/ these answer JSON in the API's one error shape; elsewhere Django's pages.
handler400 = "tsconsole.api_errors.bad_request"
handler403 = "tsconsole.api_errors.permission_denied"
handler404 = "tsconsole.api_errors.page_not_found"
handler500 = "tsconsole.api_errors.server_error"
