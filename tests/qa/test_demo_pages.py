"""Demo QA data through the services, every QA page rendered for its roles with its data, the
home panel, CSV export and the OpenAPI schema."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from qa import demo as qa_demo
from qa.models import Audit, CalibrationSession, Dispute, Sample
from tsconsole.demo import ensure_demo_users, seeders

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_world(db):
    ensure_demo_users()
    summaries = dict((name, fn()) for name, fn in seeders())
    return summaries


def test_demo_has_every_outcome_a_due_sample_and_a_closed_session(demo_world):
    assert "samples" in demo_world["qa"], demo_world["qa"]
    assert set(Audit.objects.values_list("outcome", flat=True)) == {"agree", "minor", "major", "critical"}
    assert Sample.objects.filter(reviewer__username="qa", status="due").exists()
    assert Dispute.objects.filter(ruling="").count() == 1
    session = CalibrationSession.objects.get()
    assert session.status == "closed" and session.results["fleiss_kappa"] is not None
    assert qa_demo.seed() == "already present"


def _get(client, username, name, *args, **params):
    client.force_login(get_user_model().objects.get(username=username))
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode() if not getattr(response, "streaming", False) else b"".join(response.streaming_content).decode()


def test_pages_show_the_demo(client, demo_world):
    home = _get(client, "qa", "home")
    assert 'data-testid="home-qa"' in home and "due for you" in home
    assert "Sample" in _get(client, "qa", "qa-queue")
    due = Sample.objects.filter(reviewer__username="qa", status="due").first()
    assert 'data-testid="review-form"' in _get(client, "qa", "qa-sample", due.pk)
    reviewed = Audit.objects.get(outcome="major").sample
    assert 'data-testid="original"' in _get(client, "qa", "qa-sample", reviewed.pk)
    assert 'data-testid="feedback-item"' in _get(client, reviewed.analyst.username, "qa-feedback")
    assert 'data-testid="dispute"' in _get(client, "lead", "qa-disputes")
    overview = _get(client, "lead", "qa-overview")
    assert "analyst" in overview and "By policy" in overview
    assert "Random 5%" in _get(client, "lead", "qa-rules")
    session = CalibrationSession.objects.get()
    assert 'data-testid="kappa"' in _get(client, "analyst", "qa-calibration", session.pk)
    assert session.title in _get(client, "analyst", "qa-calibrations")
    assert "Create and invite" in _get(client, "lead", "qa-calibration-new")


def test_csv_export(client, demo_world):
    body = _get(client, "lead", "qa-audits-csv")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["audit_id", "sample_id", "case_id"]
    assert len(rows) == 1 + Audit.objects.count()
    assert {r[rows[0].index("outcome")] for r in rows[1:]} == {"agree", "minor", "major", "critical"}
    client.force_login(get_user_model().objects.get(username="lead"))
    assert client.get(reverse("qa-audits-csv"), {"since": "not-a-date"}).status_code == 400


def test_the_schema_documents_the_qa_api(client, demo_world):
    client.force_login(get_user_model().objects.get(username="lead"))
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/qa/samples/", "/api/v1/qa/samples/{id}/review/", "/api/v1/qa/sampling-rules/",
                 "/api/v1/qa/calibrations/", "/api/v1/qa/calibrations/{id}/answers/", "/api/v1/qa/calibrations/{id}/close/"):
        assert path in schema, path


def test_queue_page_queries_stay_flat(client, demo_world, django_assert_max_num_queries):
    client.force_login(get_user_model().objects.get(username="lead"))
    with django_assert_max_num_queries(20):
        assert client.get(reverse("qa-queue")).status_code == 200
