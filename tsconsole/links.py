"""Links that leave the console (emails, chat posts) need the site's address; in-app ones do not."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """SITE_URL + path; the bare path when SITE_URL is unset."""
    return f"{settings.SITE_URL}{path}"
