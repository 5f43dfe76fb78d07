"""Calibration sessions over the API: build, answer blind and once, close, results."""

import pytest
from django.urls import reverse

from qa import services
from qa.models import CalibrationAnswer
from tsconsole import roles
from tsconsole.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def people(make_user):
    return [make_user(roles.ANALYST, username=f"cal-a{i}") for i in range(3)] + [make_user(roles.QA_REVIEWER, username="cal-q")]


@pytest.fixture
def cases(make_user, decide):
    analyst = make_user(roles.ANALYST, username="cal-decider")
    return [decide(analyst, ("warn",), rationale=f"Rationale-cal-{i}").case for i in range(3)]


def _decision(*types, policy="qa-policy"):
    if types == ("no_violation",):
        return {"no_violation": True}
    return {"policy": policy, "actions": [{"type": t} for t in types]}


def test_a_session_from_start_to_results(api_as, lead, people, cases):
    created = api_as(lead).post(reverse("api-qa-calibrations"), {
        "title": "Harassment week 49", "cases": [c.pk for c in cases], "participants": [p.username for p in people],
    }, format="json")
    assert created.status_code == 201, created.json()
    sid = created.json()["id"]
    assert created.json()["fleiss_kappa"] is None
    answers = {  # case index → each participant's answer
        0: [("warn",), ("warn",), ("warn",), ("warn",)],
        1: [("warn",), ("suspension",), ("warn",), ("suspension",)],
        2: [("no_violation",), ("no_violation",), ("no_violation",), ("warn",)],
    }
    for index, per_person in answers.items():
        for person, types in zip(people, per_person, strict=True):
            r = api_as(person).post(reverse("api-qa-calibration-answers", args=[sid]),
                                    {"case": cases[index].pk, "decision": _decision(*types)}, format="json")
            assert r.status_code == 201, r.json()
    again = api_as(people[0]).post(reverse("api-qa-calibration-answers", args=[sid]),
                                   {"case": cases[0].pk, "decision": _decision("termination")}, format="json")
    assert again.status_code == 409  # answers are final
    # while open nobody sees the results
    assert api_as(people[0]).get(reverse("api-qa-calibration", args=[sid])).json()["fleiss_kappa"] is None
    assert api_as(people[0]).post(reverse("api-qa-calibration-close", args=[sid])).status_code == 403
    closed = api_as(lead).post(reverse("api-qa-calibration-close", args=[sid]))
    assert closed.status_code == 200
    body = api_as(people[1]).get(reverse("api-qa-calibration", args=[sid])).json()
    by_case = {c["case"]: c for c in body["cases"]}
    assert by_case[cases[0].pk]["percent_agreement"] == 1.0
    assert by_case[cases[1].pk]["spread"] == {"warn": 2, "suspension": 2}
    assert by_case[cases[1].pk]["consensus"] is None  # a tie has no consensus
    assert by_case[cases[2].pk]["percent_agreement"] == 0.5
    # P̄ = (1 + 1/3 + 1/2) / 3 = 0.6111; shares warn 7/12, suspension 2/12, none 3/12
    # → P̄e = 0.3403 + 0.0278 + 0.0625 = 0.4306; κ = (0.6111 − 0.4306) / (1 − 0.4306) = 0.3171
    assert body["fleiss_kappa"] == pytest.approx(0.3171, abs=0.0005)
    assert body["percent_agreement"] == pytest.approx(0.6111, abs=0.0001)
    assert body["kappa_by_policy"] == {"qa-policy": body["fleiss_kappa"]}
    agreement = {p["username"]: p["agreement"] for p in body["participants"]}
    # consensus on case 0 (warn) and case 2 (no violation): a0, a2 agree on both, cal-q on one
    assert agreement["cal-a0"] == 1.0 and agreement["cal-q"] == 0.5
    assert api_as(people[0]).post(reverse("api-qa-calibration-answers", args=[sid]),
                                  {"case": cases[0].pk, "decision": _decision("warn")}, format="json").status_code == 409


def test_golden_answers_are_the_reference(lead, people, cases):
    session = services.calibration_create(title="Golden", cases=[cases[0].pk], participants=[p.username for p in people[:2]],
                                          actor=lead)
    services.calibration_golden_set(session=session, case=cases[0].pk, decision=_decision("suspension"),
                                    rationale="Threat with a date and place", actor=lead)
    services.calibration_answer(session=session, case=cases[0].pk, decision=_decision("warn"), actor=people[0])
    services.calibration_answer(session=session, case=cases[0].pk, decision=_decision("suspension"), actor=people[1])
    results = services.calibration_close(session=session, actor=lead).results
    assert results["participants"] == {"cal-a0": {"compared": 1, "agreement": 0.0}, "cal-a1": {"compared": 1, "agreement": 1.0}}
    assert results["cases"][0]["golden"] == "suspension"


def test_who_and_what(api_as, lead, people, cases, make_user, client):
    with pytest.raises(InvalidInput):
        services.calibration_create(title="x", cases=[cases[0].pk], participants=[people[0].username], actor=lead)
    support = make_user(roles.SUPPORT_AGENT, username="cal-support")
    with pytest.raises(InvalidInput):
        services.calibration_create(title="x", cases=[cases[0].pk], participants=[people[0].username, "cal-support"], actor=lead)
    session = services.calibration_create(title="x", cases=[cases[0].pk], participants=[p.username for p in people[:2]], actor=lead)
    outsider = people[3]
    with pytest.raises(NotFound):
        services.calibration_answer(session=session, case=cases[0].pk, decision=_decision("warn"), actor=outsider)
    assert api_as(outsider).get(reverse("api-qa-calibration", args=[session.pk])).status_code == 404
    assert api_as(support).get(reverse("api-qa-calibration", args=[session.pk])).status_code == 403
    with pytest.raises(InvalidInput):
        services.calibration_answer(session=session, case=cases[1].pk, decision=_decision("warn"), actor=people[0])
    services.calibration_close(session=session, actor=lead)
    with pytest.raises(Conflict):
        services.calibration_answer(session=session, case=cases[0].pk, decision=_decision("warn"), actor=people[0])
    assert not CalibrationAnswer.objects.exists()


def test_the_calibration_case_page_is_blind(client, lead, people, cases):
    session = services.calibration_create(title="Blind", cases=[cases[0].pk], participants=[p.username for p in people[:2]], actor=lead)
    client.force_login(people[0])
    html = client.get(reverse("qa-calibration-case", args=[session.pk, cases[0].pk])).content.decode()
    assert "Rationale-cal-0" not in html and "cal-decider" not in html
    response = client.post(reverse("qa-calibration-case", args=[session.pk, cases[0].pk]),
                           {"verdict": "violation", "policy": "qa-policy", "actions": ["warn"]})
    assert response.status_code == 302
    assert CalibrationAnswer.objects.get().category == "warn"
