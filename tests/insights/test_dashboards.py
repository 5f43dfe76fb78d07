"""Dashboards: queue health, team, KPIs against targets with the cases behind them, CSV exports
(streamed, and as a background job when large), and the leads' home panel."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case
from insights import dashboards, exports, kpis, rollup, services
from insights import filters as insight_filters
from insights.filters import filters_from
from insights.models import ExportJob, KpiTarget
from tests import factories as fx
from tsconsole.models import AuditEntry

from .world import appeal_on, applied_action

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    import csv

    body = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    return list(csv.reader(body.splitlines()))


@pytest.fixture
def floor(analyst, lead):
    """Now-ish world in one queue: 3 open cases (one breached, one at risk), 2 resolved today."""
    now = timezone.now()
    queue = fx.QueueFactory(slug="general-q", name="General Q", complexity_weight=Decimal("2.0"))
    breached = fx.CaseFactory(queue=queue, opened_at=now - timedelta(hours=30), resolution_due_at=now - timedelta(hours=1))
    risky_due = now + timedelta(minutes=30)
    at_risk = fx.CaseFactory(queue=queue, opened_at=now - timedelta(hours=2), resolution_due_at=risky_due,
                             sla_resolution_at_risk_for=risky_due)
    fresh = fx.CaseFactory(queue=queue, opened_at=now - timedelta(minutes=10), resolution_due_at=now + timedelta(hours=3))
    done = []
    for minutes, due_in in ((50, 60), (20, -5)):
        opened = now - timedelta(minutes=minutes + 30)
        case = fx.CaseFactory(queue=queue, opened_at=opened, status="resolved", resolved_at=now - timedelta(minutes=minutes),
                              resolved_by=analyst, resolution_due_at=now - timedelta(minutes=minutes - due_in))
        fx.CaseEventFactory(case=case, verb="opened", to_status="open", created_at=opened)
        fx.CaseEventFactory(case=case, verb="claimed", from_status="open", to_status="in_review", actor=analyst,
                            actor_kind="user", created_at=opened + timedelta(minutes=10))
        fx.CaseEventFactory(case=case, verb="resolved", from_status="in_review", to_status="resolved", actor=analyst,
                            actor_kind="user", created_at=case.resolved_at)
        done.append(case)
    rollup.rollup_hours(now - timedelta(hours=3), now + timedelta(hours=1))
    return {"queue": queue, "breached": breached, "at_risk": at_risk, "fresh": fresh, "done": done, "now": now}


def test_queue_health_counts_what_is_open_now(floor):
    data = dashboards.queue_health(filters_from({"queue": "general-q"}), now=floor["now"])
    assert data["totals"] == {"backlog": 3, "breached": 1, "at_risk": 1}
    assert data["backlog"]["rows"] == [["General Q", 3, 3, 1, 1]]
    ages = dict(zip(data["ages"]["columns"][1:], data["ages"]["rows"][0][1:], strict=True))
    assert ages == {"< 1 h": 1, "1–4 h": 1, "4–24 h": 0, "1–3 d": 1, "3–7 d": 0, "> 7 d": 0}
    # outflow: 2 resolved in the last 24 h → 0.1 per hour; due within 1 h: the at-risk case
    forecast = data["forecast"]["rows"][0]
    assert forecast[1] == round(2 / 24, 1) and forecast[2] == 1 and forecast[5] == 2
    flow = {row[0]: row[1:] for row in data["flow"]["rows"]}
    assert sum(v[0] for v in flow.values()) == 2 and sum(v[1] for v in flow.values()) == 2
    sla = data["sla"]["rows"]
    assert sla == [["General Q", "P2", 0, None, 2, 50.0]]


def test_queue_health_page_charts_csv_and_errors(client, lead, analyst, floor, django_assert_max_num_queries):
    client.force_login(lead)
    with django_assert_max_num_queries(16):
        response = client.get("/insights/queues/", {"queue": "general-q"})
    assert response.status_code == 200
    html = response.content.decode()
    for chart in ("backlog-age", "flow", "forecast"):
        assert f'data-chart="{chart}"' in html
    assert 'data-label="1–3 d" data-series="Open cases by age" data-value="1"' in html
    rows = _csv(client.get("/insights/queues/", {"queue": "general-q", "export": "backlog"}))
    assert rows == [["Queue", "Backlog", "Unassigned", "At risk", "Breached"], ["General Q", "3", "3", "1", "1"]]
    bad = client.get("/insights/queues/", {"queue": "nope", "from": "yesterday"})
    assert bad.status_code == 400
    assert "There is no queue “nope”." in bad.content.decode()
    client.force_login(analyst)
    assert client.get("/insights/queues/").status_code == 403


def test_team_per_analyst_for_leads_and_own_figures_for_analysts(client, lead, analyst, floor):
    other = fx.UserFactory(username="otto")
    applied_action("remove_content", proposer=analyst)
    fx.EscalationFactory(severity="sev1", created_by=analyst, acknowledged_at=timezone.now() + timedelta(minutes=10))
    client.force_login(lead)
    data = dashboards.team(filters_from({}))
    rows = {r[0]: r for r in data["analysts"]["rows"]}
    assert rows["ana"][1:3] == [2, 4.0]  # two resolutions in a queue of weight 2
    assert rows["ana"][3] == 20.0  # 40 review minutes over 2 cases
    assert "otto" not in rows and other.pk
    assert [r[1:] for r in data["decisions"]["rows"]] == [["Remove content", 1]]
    assert data["escalations"]["rows"][0][:4] == ["SEV1", 1, 1, 1]
    assert client.get("/insights/team/").status_code == 200

    client.force_login(analyst)
    response = client.get("/insights/team/")
    assert response.status_code == 200
    assert "Your own figures" in response.content.decode()
    own = dashboards.team(filters_from({}), user=analyst)
    assert [r[0] for r in own["analysts"]["rows"]] == ["ana"]
    lead_own = dashboards.team(filters_from({}), user=lead)
    assert lead_own["analysts"]["rows"] == []


def test_shared_team_figures_are_never_served_to_someone_else(client, lead, analyst, floor):
    """The lead's team figures and each analyst's own are shared under different names: an analyst
    never sees the figures a lead (or another analyst) had computed a moment before."""
    colleague = fx.user_with_role("analyst", username="colleague")
    client.force_login(lead)
    lead_page = client.get("/insights/team/").content.decode()
    assert "ana" in lead_page and 'data-testid="computed-at"' in lead_page
    names = {}
    for person in (colleague, analyst):
        client.force_login(person)
        names[person.username] = [row[0] for row in _csv(client.get("/insights/team/", {"export": "analysts"}))[1:]]
    assert names == {"colleague": [], "ana": ["ana"]}


def test_kpis_against_targets_with_the_cases_behind_them(client, lead, floor):
    client.force_login(lead)
    values = {r["key"]: r for r in kpis.compute(filters_from({"from": (floor["now"] - timedelta(days=1)).date().isoformat()}))}
    assert values["sla_resolution"]["value"] == 50.0 and values["sla_resolution"]["status"] == "missed"
    assert values["backlog_burn"]["value"] == 0  # 2 opened (events) and 2 resolved in the period
    assert values["resolved_per_day"]["status"] == "none"

    response = client.get(values["sla_resolution"]["cases_url"])
    assert response.status_code == 200
    late = floor["done"][1]
    assert f"#{late.pk}" in response.content.decode() and f"#{floor['done'][0].pk}" not in response.content.decode()
    rows = _csv(client.get(values["sla_resolution"]["cases_url"] + "&export=csv"))
    assert [r[0] for r in rows[1:]] == [str(late.pk)]


def test_kpi_values_are_shared_for_a_minute_but_a_new_target_shows_at_once(client, lead, floor, monkeypatch):
    client.force_login(lead)
    since = {"from": (floor["now"] - timedelta(days=1)).date().isoformat()}

    def resolved_row():
        page = client.get("/insights/kpis/", since).content.decode()
        return page.split('data-kpi="resolved_per_day"')[1].split("</tr>")[0], page

    before, page = resolved_row()
    assert 'data-testid="computed-at"' in page
    analyst = floor["done"][0].resolved_by
    case = fx.CaseFactory(queue=floor["queue"], status="resolved", resolved_at=timezone.now(), resolved_by=analyst)
    fx.CaseEventFactory(case=case, verb="resolved", from_status="in_review", to_status="resolved", actor=analyst,
                        actor_kind="user", created_at=case.resolved_at)
    rollup.rollup_hours(floor["now"] - timedelta(hours=3), timezone.now() + timedelta(hours=1))
    client.post("/insights/kpis/resolved_per_day/target/", {"target": "1"})
    after, _ = resolved_row()
    assert "On target" in after  # the target and its status are read afresh
    assert before.split("<td")[2] == after.split("<td")[2]  # the value is the one computed a moment ago
    monkeypatch.setattr(insight_filters, "PERIOD_FIGURES_CACHE_SECONDS", 0)
    fresh, _ = resolved_row()
    assert fresh.split("<td")[2] != before.split("<td")[2]


def test_a_lead_sets_a_target_and_it_is_audited(client, lead, floor):
    client.force_login(lead)
    response = client.post("/insights/kpis/resolved_per_day/target/", {"target": "1", "next": "/insights/kpis/"})
    assert response.status_code == 302
    assert KpiTarget.objects.get(key="resolved_per_day").target == Decimal("1.00")
    assert AuditEntry.objects.filter(verb="insights.kpi_target_set", object_ref="resolved_per_day").exists()
    page = client.get("/insights/kpis/").content.decode()
    assert 'data-kpi="resolved_per_day"' in page and "On target" in page
    client.post("/insights/kpis/sla_first_touch/target/", {"target": "140"})
    assert not KpiTarget.objects.filter(key="sla_first_touch").exists()
    with pytest.raises(Exception, match="must be between 0 and 100"):
        services.kpi_target_set(key="sla_first_touch", target="140", actor=lead)
    with pytest.raises(Exception, match="must be a number"):
        services.kpi_target_set(key="macro_use", target="lots", actor=lead)


def test_repeat_offender_and_false_positive_kpis():
    signal = fx.SignalFactory()
    first, _ = applied_action("suspension")
    linked = fx.AccountFactory()
    fx.SubjectSignalFactory(subject=first.target, signal=signal)
    fx.SubjectSignalFactory(subject=linked, signal=signal)
    reversed_, _ = applied_action("termination")
    appeal_on(reversed_, outcome="overturned")  # reversed as incorrect: a false positive
    values = {r["key"]: r for r in kpis.compute(filters_from({}))}
    assert values["repeat_offenders"]["value"] == 0.0  # the linked account was never actioned
    assert values["false_positives"]["value"] == 50.0
    gap_cases = kpis.cases_behind({"kpi": "repeat_offenders"})
    assert list(gap_cases.values_list("id", flat=True)) == [first.case_id]
    applied_action("suspension", target=linked, case=fx.CaseFactory(subject=linked, status="resolved"))
    assert {r["key"]: r for r in kpis.compute(filters_from({}))}["repeat_offenders"]["value"] == 100.0
    assert list(kpis.cases_behind({"kpi": "false_positives"}).values_list("id", flat=True)) == [reversed_.case_id]


def test_repeat_offender_counts_equal_the_sets_behind_them():
    """The KPI's one-statement counts agree with the querysets that list its cases."""
    shared, other_signal = fx.SignalFactory(), fx.SignalFactory()
    gap_account, _ = applied_action("suspension")            # linked to an account never restricted
    fx.SubjectSignalFactory(subject=gap_account.target, signal=shared)
    fx.SubjectSignalFactory(subject=fx.AccountFactory(), signal=shared)
    handled, _ = applied_action("feature_restriction")       # linked to an account restricted too
    fx.SubjectSignalFactory(subject=handled.target, signal=other_signal)
    linked = fx.AccountFactory()
    fx.SubjectSignalFactory(subject=linked, signal=other_signal)
    applied_action("suspension", target=linked, case=fx.CaseFactory(subject=linked, status="resolved"))
    lonely, _ = applied_action("suspension")                 # only its own signals: not counted
    fx.SubjectSignalFactory(subject=lonely.target, signal=fx.SignalFactory())
    applied_action("transaction_hold", target=gap_account.target)  # a second action on the same account
    applied_action("remove_content")                         # content, not an account
    f = filters_from({})
    with_links, gaps = kpis._repeat_offender_sets(f)
    expected = (with_links.values("target").distinct().count(), gaps.values("target").distinct().count())
    assert kpis._repeat_offender_counts(f) == expected == (3, 1)


def test_a_large_export_runs_as_a_job_with_progress_and_a_download(client, lead, floor, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.INSIGHTS_EXPORT_INLINE_MAX = 1
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get("/insights/kpis/backlog_burn/cases/", {"export": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/insights/exports/{job.pk}/"
    assert job.total == 3 and job.status == "pending"
    page = client.get(f"/insights/exports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert exports.run_job(job.pk) == "done"
    assert exports.run_job(job.pk) == "skipped"
    page = client.get(f"/insights/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Download CSV" in page and "hx-trigger" not in page
    download = client.get(f"/insights/exports/{job.pk}/download/")
    body = b"".join(download.streaming_content).decode().lstrip("\ufeff").splitlines()
    assert len(body) == 4 and body[0].startswith("case,queue")
    assert {int(line.split(",")[0]) for line in body[1:]} == set(
        Case.objects.exclude(status="resolved").values_list("id", flat=True))
    other = fx.UserFactory(roles=["lead"])
    client.force_login(other)
    assert client.get(f"/insights/exports/{job.pk}/").status_code == 404


def test_home_panel_shows_what_needs_action_now(client, lead, analyst, floor):
    fx.EscalationFactory(ack_due_at=timezone.now() - timedelta(minutes=5))
    client.force_login(lead)
    html = client.get("/").content.decode()
    assert 'data-testid="home-action-now"' in html
    assert '<strong data-testid="now-breached">1</strong>' in html
    assert '<strong data-testid="now-due">1</strong>' in html
    assert '<strong data-testid="now-escalations">1</strong>' in html
    client.force_login(analyst)
    assert 'data-testid="home-action-now"' not in client.get("/").content.decode()


def test_home_panel_counts_in_four_queries(lead, floor, django_assert_num_queries):
    from insights import selectors

    fx.EscalationFactory(ack_due_at=timezone.now() - timedelta(minutes=5))
    with django_assert_num_queries(4):  # open cases, open escalations, approvals, QA samples
        counts = selectors.action_now_counts(now=timezone.now())
    assert (counts["due_within_hour"], counts["breached"]) == (1, 1)
    assert (counts["escalations_waiting"], counts["escalations_overdue"]) == (1, 1)


def test_the_backlog_clock_counts_are_shared_for_a_few_seconds(lead, floor, django_assert_num_queries, monkeypatch):
    from insights import selectors

    now = timezone.now()
    assert selectors.action_now_counts(now=now)["breached"] == 1
    fx.CaseFactory(queue=floor["queue"], resolution_due_at=now - timedelta(minutes=3))
    with django_assert_num_queries(3):  # escalations, approvals, QA samples: the backlog came from the cache
        assert selectors.action_now_counts(now=now)["breached"] == 1
    monkeypatch.setattr(selectors, "BACKLOG_CLOCKS_CACHE_SECONDS", 0)
    assert selectors.action_now_counts(now=now)["breached"] == 2


def test_live_queue_health_shares_its_open_case_figures_for_a_few_seconds(floor, monkeypatch):
    first = dashboards.queue_health(filters_from({"queue": "general-q"}))
    fx.CaseFactory(queue=floor["queue"], resolution_due_at=timezone.now() - timedelta(minutes=3))
    again = dashboards.queue_health(filters_from({"queue": "general-q"}))
    assert again["totals"] == first["totals"] == {"backlog": 3, "breached": 1, "at_risk": 1}
    assert again["now"] == first["now"]  # the page says when they were counted
    as_of_now = dashboards.queue_health(filters_from({"queue": "general-q"}), now=timezone.now())
    assert as_of_now["totals"]["backlog"] == 4 and as_of_now["totals"]["breached"] == 2
    monkeypatch.setattr(dashboards, "OPEN_FIGURES_CACHE_SECONDS", 0)
    assert dashboards.queue_health(filters_from({"queue": "general-q"}))["totals"]["backlog"] == 4


def test_the_home_queue_panel_shows_the_queue_pages_counts(lead, floor):
    from cases import selectors as case_selectors

    row = next(r for r in case_selectors.queue_open_summary(lead) if r["queue"].slug == "general-q")
    assert (row["open_count"], row["unassigned"]) == (3, 3)
    assert row["oldest"] == floor["breached"].opened_at  # opened 30 hours ago, the oldest open case
    assert row["counted_at"] <= timezone.now()


def test_open_backlog_counts_read_the_open_case_index(lead, floor):
    """The home panels' and queue health's counts over open cases match the predicate of the covering
    index case_open_cover, so at a million cases they read a few megabytes, not the whole table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases import selectors as case_selectors
    from insights import selectors

    with CaptureQueriesContext(connection) as ctx:
        selectors.action_now_counts(now=timezone.now())
        case_selectors.queue_open_summary(lead)
        dashboards.queue_health(filters_from({}))
    backlog = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT") and 'FROM "cases_case"' in q["sql"]]
    assert len(backlog) == 3
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows would be read from the heap anyway
        # With a few rows any index on queue or status is as cheap; leave the planner only the covering
        # index and the constraints' own, so the plan says whether the predicate lets it be used.
        # (DDL inside the test's transaction: rolled back with it.)
        cursor.execute("""
            SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'cases_case'::regclass AND i.relname <> 'case_open_cover'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        for sql in backlog:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "case_open_cover" in plan, plan


def test_repeat_offender_counts_with_shared_and_mutual_links():
    """Accounts restricted in the period linked to each other count as handled; an account linked to
    the same unrestricted account through two signals counts once."""
    first, _ = applied_action("suspension")
    second, _ = applied_action("suspension")
    mutual, email, device = fx.SignalFactory(), fx.SignalFactory(), fx.SignalFactory()
    for account in (first.target, second.target):
        fx.SubjectSignalFactory(subject=account, signal=mutual)
    bystander = fx.AccountFactory()
    for signal in (email, device):
        fx.SubjectSignalFactory(subject=first.target, signal=signal)
        fx.SubjectSignalFactory(subject=bystander, signal=signal)
    f = filters_from({})
    with_links, gaps = kpis._repeat_offender_sets(f)
    expected = (with_links.values("target").distinct().count(), gaps.values("target").distinct().count())
    assert kpis._repeat_offender_counts(f) == expected == (2, 1)


def test_a_signal_too_common_to_link_by_links_no_repeat_offender():
    """Accounts that share only a carrier's NAT address are not linked: the KPI neither counts the
    restricted one as having links nor as a gap, in its counts and in the cases behind it."""
    restricted, _ = applied_action("suspension")
    never_actioned = fx.AccountFactory()
    fx.common_signal(restricted.target, never_actioned)
    f = filters_from({})
    with_links, gaps = kpis._repeat_offender_sets(f)
    assert kpis._repeat_offender_counts(f) == (with_links.count(), gaps.count()) == (0, 0)
    device = fx.SignalFactory()  # a signal they really share
    for account in (restricted.target, never_actioned):
        fx.SubjectSignalFactory(subject=account, signal=device)
    with_links, gaps = kpis._repeat_offender_sets(f)
    assert kpis._repeat_offender_counts(f) == (with_links.count(), gaps.count()) == (1, 1)
