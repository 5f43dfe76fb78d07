from .navigation import nav_for
from .roles import ROLE_LABELS, user_roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = sorted(user_roles(user))
    return {
        "nav_items": nav_for(user),
        "user_role_labels": [ROLE_LABELS[r] for r in roles],
        "unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
        "is_admin_user": user.is_staff,
    }
