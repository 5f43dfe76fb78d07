import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tsconsole import roles

from .factories import user_with_role


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Test users are made by the thousand: hash their passwords cheaply (production keeps PBKDF2,
    which still verifies any hash made outside the suite)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _evidence_root(settings, tmp_path):
    """Evidence files and export files of each test go to a fresh private folder."""
    settings.EVIDENCE_ROOT = tmp_path / "evidence"
    settings.INSIGHTS_EXPORT_DIR = str(tmp_path / "exports")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached reads must not leak from one test into the next."""
    from django.core.cache import cache

    from cases.services.intake import intake_context_forget

    cache.clear()
    intake_context_forget()  # its process-local copy follows the shared cache's version
    yield


@pytest.fixture
def make_user(db):
    def make(role: str | None = None, **kwargs):
        if role is None:
            from .factories import UserFactory

            return UserFactory(**kwargs)
        return user_with_role(role, **kwargs)

    return make


@pytest.fixture
def analyst(make_user):
    return make_user(roles.ANALYST, username="ana")


@pytest.fixture
def lead(make_user):
    return make_user(roles.LEAD, username="lee")


@pytest.fixture
def qa_reviewer(make_user):
    return make_user(roles.QA_REVIEWER, username="quinn")


@pytest.fixture
def support_agent(make_user):
    return make_user(roles.SUPPORT_AGENT, username="sam")


@pytest.fixture
def admin_user(make_user):
    return make_user(roles.ADMIN, username="adm", is_staff=True, is_superuser=True)


@pytest.fixture
def integration(make_user):
    return make_user(roles.INTEGRATION, username="platform")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """An API client authenticated as the given user (force_authenticate: the token path is tested separately)."""

    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login


@pytest.fixture
def role_groups(db):
    return {name: Group.objects.get_or_create(name=name)[0] for name in roles.ROLES}
