"""Appeal and QA figures in insights, each against a hand count: the KPIs (appeal rate and
overturn rate, QA pass rate, documentation quality, rework, false positives and negatives,
calibration variance) with the cases behind them, the team's appeals-and-QA table, the
transparency report's complaints section and the leads' QA samples due."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from insights import dashboards, kpis, transparency
from insights.filters import filters_from
from qa import services as qa_services
from qa.models import Sample
from tests import factories as fx
from tsconsole import roles

from .world import appeal_on, applied_action, audit_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(analyst, lead, make_user):
    """Hand-counted: ana and bo decide; appeals, audits and corrections follow.

    restrictions applied (6): a1 suspension (ana, appeal overturned), a2 removal (ana, appeal upheld),
    a3 termination (bo, appeal open), a4 suspension (bo, audit major, corrected by a lead), a5 removal
    (ana, audit agree), a6 visibility (bo, reversed by a lead for another reason). Other decisions: w1 a
    warning (ana); n1, n2, n3 no violation (n1 overturned on a notifier's appeal; n2 audited and a
    violation found; n3 audited minor)."""
    now = timezone.now()
    bo = make_user(roles.ANALYST, username="bo")
    reviewer = make_user(roles.QA_REVIEWER, username="quinn")
    policy = fx.PolicyFactory(slug="harass", name="Harassment")
    at = now - timedelta(days=2)

    def act(kind, who, **kw):
        return applied_action(kind, at=at, proposer=who, policy=policy, **kw)[0]

    w = {"now": now, "bo": bo, "policy": policy}
    w["a1"], w["a2"], w["a3"] = act("suspension", analyst), act("remove_content", analyst), act("termination", bo)
    w["a4"], w["a5"], w["a6"] = act("suspension", bo), act("remove_content", analyst), act("restrict_visibility", bo,
                                                                                          status="reversed")
    w["w1"] = act("warn", analyst)
    w["n1"], w["n2"], w["n3"] = act("no_violation", analyst), act("no_violation", bo), act("no_violation", analyst)
    for key in ("n1", "n2", "n3"):
        w[key].case.resolution = "no_violation"
        w[key].case.save(update_fields=["resolution"])
    appeal_on(w["a1"], outcome="overturned", decided_at=at + timedelta(hours=5))  # 4 h after filing
    appeal_on(w["a2"], outcome="upheld", decided_at=at + timedelta(hours=11))  # 10 h
    appeal_on(w["a3"])
    appeal_on(w["n1"], kind="notifier", appellant_ref="notifier-1", outcome="overturned",
              decided_at=at + timedelta(hours=9))  # 8 h
    audit_on(w["a4"], outcome="major", score=50, reviewer=reviewer, types=["no_violation"], corrected_by=lead)
    audit_on(w["a5"], outcome="agree", score=100, reviewer=reviewer)
    audit_on(w["n2"], outcome="major", score=75, reviewer=reviewer, types=["warn"])
    audit_on(w["n3"], outcome="minor", score=75, reviewer=reviewer)
    return w


def _values(params=None):
    return {r["key"]: r for r in kpis.compute(filters_from(params or {}))}


def _behind(key, params=None):
    return set(kpis.cases_behind({"kpi": key, **(params or {})}).values_list("id", flat=True))


def test_appeal_and_qa_kpis_equal_hand_counts(world):
    v = _values()
    figures = {k: (v[k]["value"], v[k]["numerator"], v[k]["denominator"]) for k in (
        "appeal_rate", "appeal_overturn_rate", "qa_pass_rate", "documentation_quality", "rework_rate",
        "false_positives", "false_negatives")}
    assert figures == {
        "appeal_rate": (66.7, 4, 6),  # a1, a2, a3, n1 filed / 6 restrictions
        "appeal_overturn_rate": (66.7, 2, 3),  # a1, n1 overturned / a1, a2, n1 decided
        "qa_pass_rate": (50.0, 2, 4),  # a5 agree, n3 minor / 4 audits
        "documentation_quality": (4.0, 4, None),  # mean of 50, 100, 75, 75 = 75 → 1 + 4 × 0.75
        "rework_rate": (30.0, 3, 10),  # a1 and n1 overturned, a4 corrected / 10 decisions
        "false_positives": (33.3, 2, 6),  # a1, a4 (a6 was reversed for another reason)
        "false_negatives": (2, 2, 3),  # n2 audit, n1 notifier appeal / n2, n3 audits and n1's appeal
    }
    assert v["qa_pass_rate"]["status"] == "missed" and v["rework_rate"]["status"] == "missed"
    assert v["appeal_overturn_rate"]["target"] == 15 and v["appeal_overturn_rate"]["status"] == "missed"
    assert v["documentation_quality"]["status"] == "missed"  # 4.0 < 4.5
    assert v["calibration_variance"]["value"] is None and v["calibration_variance"]["status"] == "none"


def test_each_kpi_names_the_cases_behind_its_number(world):
    case = {k: world[k].case_id for k in ("a1", "a2", "a3", "a4", "a5", "a6", "n1", "n2", "n3")}
    assert _behind("appeal_rate") == {case["a1"], case["a2"], case["a3"], case["n1"]}
    assert _behind("appeal_overturn_rate") == {case["a1"], case["n1"]}
    assert _behind("qa_pass_rate") == {case["a4"], case["n2"]}
    assert _behind("documentation_quality") == {case["a4"], case["n2"], case["n3"]}  # below 87.5 of 100
    assert _behind("rework_rate") == {case["a1"], case["a4"], case["n1"]}
    assert _behind("false_positives") == {case["a1"], case["a4"]}
    assert _behind("false_negatives") == {case["n1"], case["n2"]}


def test_the_filters_narrow_appeal_and_qa_figures(world):
    other = fx.PolicyFactory(slug="spam-p", name="Spam")
    extra = applied_action("suspension", at=world["now"] - timedelta(days=1), proposer=world["bo"], policy=other)[0]
    appeal_on(extra, outcome="upheld")
    everything, harass = _values(), _values({"policy": "harass"})
    assert everything["appeal_overturn_rate"]["denominator"] == 4
    assert harass["appeal_overturn_rate"]["denominator"] == 3
    assert harass["appeal_rate"]["numerator"] == 4 and harass["appeal_rate"]["denominator"] == 6
    queue = fx.QueueFactory(slug="elsewhere", name="Elsewhere")
    nothing = _values({"queue": queue.slug})
    assert nothing["appeal_rate"]["numerator"] == 0 and nothing["qa_pass_rate"]["value"] is None
    assert nothing["false_negatives"]["value"] is None  # no no-violation decision reviewed in scope
    old = _values({"from": (world["now"] - timedelta(days=30)).date().isoformat(),
                   "to": (world["now"] - timedelta(days=20)).date().isoformat()})
    assert old["appeal_overturn_rate"]["denominator"] == 0 and old["qa_pass_rate"]["denominator"] == 0


def test_calibration_variance_from_the_closed_sessions(world, lead, analyst):
    """Three cases, three participants: c1 warn ×3 (consensus warn, 0 differ), c2 warn ×2 and no
    violation ×1 with golden no violation (2 differ), c3 warn, suspension, no violation (no
    consensus, no golden: not compared). 2 of 6 compared answers differ."""
    people = [analyst, world["bo"], fx.user_with_role(roles.ANALYST, username="cy")]
    cases = [world[k].case for k in ("a2", "a5", "w1")]
    for c in cases:
        c.status = "resolved"
        c.save(update_fields=["status"])
    session = qa_services.calibration_create(
        title="Week 49", cases=[c.pk for c in cases], participants=[p.username for p in people], actor=lead,
        golden={cases[1].pk: {"decision": {"no_violation": True}, "rationale": "Satire."}})
    warn = {"policy": "harass", "actions": [{"type": "warn"}]}
    answers = [[warn, warn, warn], [warn, warn, {"no_violation": True}],
               [warn, {"policy": "harass", "actions": [{"type": "suspension", "duration_hours": 24}]},
                {"no_violation": True}]]
    for c, per_person in zip(cases, answers, strict=True):
        for person, decision in zip(people, per_person, strict=True):
            qa_services.calibration_answer(session=session, case=c.pk, decision=decision, actor=person)
    qa_services.calibration_close(session=session, actor=lead)
    v = _values()["calibration_variance"]
    assert (v["value"], v["numerator"], v["denominator"]) == (33.3, 2, 6)
    assert v["status"] == "missed"  # target ±3 %
    assert _behind("calibration_variance") == {cases[1].pk}
    # per person, c1 and c2 compared: ana and bo answered warn on c2 (golden: no violation), cy did not
    team = {r[0]: r[-1] for r in dashboards.team(filters_from({}))["quality"]["rows"]}
    assert team == {"ana": 50.0, "bo": 50.0, "cy": 100.0}
    assert [r[-1] for r in dashboards.team(filters_from({}), user=analyst)["quality"]["rows"]] == [50.0]
    assert _values({"queue": fx.QueueFactory(slug="q2").slug})["calibration_variance"]["denominator"] == 0


def test_kpi_page_lists_the_new_kpis_and_their_cases(client, lead, world, django_assert_max_num_queries):
    client.force_login(lead)
    with django_assert_max_num_queries(25):
        html = client.get("/insights/kpis/").content.decode()
    for key in ("appeal_rate", "appeal_overturn_rate", "qa_pass_rate", "documentation_quality", "rework_rate",
                "false_negatives", "calibration_variance"):
        assert f'data-kpi="{key}"' in html
    assert 'data-value="4.0"' in html
    page = client.get("/insights/kpis/appeal_overturn_rate/cases/").content.decode()
    assert f"#{world['a1'].case_id}" in page and f"#{world['a2'].case_id}" not in page
    assert client.post("/insights/kpis/documentation_quality/target/", {"target": "6"}).status_code == 302
    assert kpis.targets()["documentation_quality"] == 4.5  # refused: above 5
    client.post("/insights/kpis/documentation_quality/target/", {"target": "4"})
    assert _values()["documentation_quality"]["status"] == "met"


def test_team_appeals_and_qa_per_analyst_and_own(client, lead, analyst, world):
    rows = {r[0]: r[1:] for r in dashboards.team(filters_from({}))["quality"]["rows"]}
    # restrictions, appeals filed, rate, decided, overturned, rate, audits, score /5, agreement %, pass %
    assert rows["ana"] == [3, 3, 100.0, 3, 2, 66.7, 2, 4.5, 50.0, 100.0, None]  # a1 a2 a5; a1 a2 n1; a5 (100), n3 (75)
    assert rows["bo"] == [3, 1, 33.3, 0, 0, None, 2, 3.5, 0.0, 0.0, None]  # a3 a4 a6; a3; a4 (50), n2 (75)
    own = dashboards.team(filters_from({}), user=analyst)["quality"]["rows"]
    assert [r[0] for r in own] == ["ana"]
    client.force_login(analyst)
    html = client.get("/insights/team/").content.decode()
    assert "Your appeals and QA" in html and 'data-table="quality"' in html and ">bo<" not in html
    client.force_login(lead)
    csv = b"".join(client.get("/insights/team/", {"export": "quality"}).streaming_content).decode()
    assert "QA agreement %" in csv and "\r\nbo,3,1,33.3" in csv


def test_transparency_report_counts_complaints(client, lead, world):
    now = world["now"]
    period = transparency.Period(start=now - timedelta(days=7), end=now)
    ap = transparency.transparency_report(period)["appeals"]
    assert ap["received"] == 4 and ap["decided"] == 3 and ap["overturned"] == 2
    assert {e["appellant_kind"]: e["count"] for e in ap["by_appellant"]} == {"subject": 3, "notifier": 1}
    assert {e["action_type"]: e["count"] for e in ap["by_action_type"]} == {
        "suspension": 1, "remove_content": 1, "termination": 1, "no_violation": 1}
    assert {e["outcome"]: e["count"] for e in ap["by_outcome"]} == {"upheld": 1, "overturned": 2, "modified": 0}
    assert ap["median_days_to_decide"] == round(8 / 24, 2)  # 4 h, 8 h, 10 h
    assert sum(e["count"] for e in ap["by_category"]) == 4
    assert {e["decision_ground"]: e["count"] for e in ap["by_ground"]} == {
        "DECISION_GROUND_ILLEGAL_CONTENT": 0, "DECISION_GROUND_INCOMPATIBLE_CONTENT": 4}
    empty = transparency.transparency_report(transparency.Period(start=now - timedelta(days=60),
                                                                 end=now - timedelta(days=30)))["appeals"]
    assert empty["received"] == 0 and empty["median_days_to_decide"] is None
    client.force_login(lead)
    html = client.get("/insights/transparency/").content.decode()
    assert '<div class="stat-value">4</div><div class="muted">complaints received' in html
    body = client.get("/api/v1/insights/transparency-report/", {"format": "csv"}).content.decode()
    assert "appeals,overturned,Decisions reversed on complaint,2" in body
    assert "appeals,median_days_to_decide,Median days to decide a complaint,0.33" in body
    assert client.get("/api/v1/insights/transparency-report/").json()["appeals"]["decided"] == 3


def test_leads_home_shows_qa_samples_due(client, lead, analyst, world):
    """Three samples due: one overdue with no reviewer, one assigned, one unassigned; the four
    reviewed ones do not count."""
    audited = Sample.objects.first()
    now = timezone.now()
    for due_at, reviewer in ((now - timedelta(days=1), None), (now + timedelta(days=2), world["bo"]),
                             (now + timedelta(days=3), None)):
        Sample.objects.create(rule=audited.rule, rule_version=audited.rule_version, decision_ref=uuid.uuid4(),
                              action=world["w1"], case=world["w1"].case, analyst=analyst, reviewer=reviewer,
                              decided_at=now, due_at=due_at, created_at=now)
    client.force_login(lead)
    html = client.get("/").content.decode()
    assert '<strong data-testid="now-qa-due">3</strong>' in html
    assert '<strong class="bad" data-testid="now-qa-overdue">1</strong>' in html
    assert '<strong data-testid="now-qa-unassigned">2</strong>' in html
    client.force_login(analyst)
    assert 'data-testid="now-qa-due"' not in client.get("/").content.decode()
