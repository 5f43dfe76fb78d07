"""Generate a realistic benchmark dataset in PostgreSQL, set-wise.

    manage.py bench_generate --cases 1000000 --reports-per-case 3 --open-fraction 0.05 [--overdue N]

What it makes (every external id starts with ``--prefix``, so a second run with another prefix adds
to the same database):

- subjects: about 0.75 subjects per case, 40 % accounts (followers on a long-tailed scale, a few
  verified or business) and 60 % content items (post, comment, message, listing, review, media,
  transaction) written by those accounts;
- signals: an email hash per account, devices shared by groups of five accounts and IP addresses
  shared by groups of ten (rings for linked-account analysis);
- cases in every queue and priority, routed and prioritised by the same functions intake uses
  (`cases.routing`, `cases.priority`), with due times from each queue's SLA targets. Most are
  resolved over the last ``--days`` days (by ``--analysts`` bench analysts, some after their due
  time); the newest ``--open-fraction`` are open and unassigned with due times in the future, except
  ``--overdue`` of them whose both due times have passed. At most one open case per subject;
- reports (on average ``--reports-per-case`` per case, each from a distinct reporter) and the
  case events: ``opened`` for every case, ``resolved`` for resolved ones.

Everything is ``INSERT … SELECT … FROM generate_series(…)`` in chunks (one transaction each); no index
or constraint is dropped. ANALYZE runs at the end. Prints one JSON line per step and a summary.
"""

import json
import math
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from tsconsole import roles
from tsconsole.models import Team, TeamMembership

from ...models import Category, QueueSla, Source, Subject
from ...priority import PriorityFacts, assess
from ...routing import RoutingTable

# How often each top-level category group is reported, relative to the others (spam and harassment
# dominate real queues; child safety and extremism are rare but urgent).
GROUP_WEIGHTS = {
    "spam-manipulation": 30, "harassment": 18, "scams-fraud": 14, "hate": 9, "adult-content": 7,
    "misinformation": 5, "marketplace": 5, "ip-counterfeits": 4, "privacy-doxxing": 3, "violence-threats": 3,
    "self-harm": 2, "ncii": 1, "violent-extremism": 1, "child-safety": 1,
}
# Source of the first report of a case, per 100 cases.
SOURCE_WEIGHTS = [
    (Source.USER_REPORT, 62), (Source.AUTOMATED, 28), (Source.TRUSTED_FLAGGER, 4),
    (Source.SUPPORT_ESCALATION, 4), (Source.LEGAL_REQUEST, 2),
]
DESCRIPTIONS = [
    "This account keeps sending me messages after I blocked them",
    "Selling followers, DM for prices",
    "Looks like a phishing link pretending to be the bank",
    "Fake listing, seller asks for payment outside the platform",
    "Hateful slur in the comments",
    "Posting my home address",
    "Graphic video without any warning",
    "Impersonating a well-known brand",
]


class Command(BaseCommand):
    help = "Generate a realistic benchmark dataset (PostgreSQL only): subjects, signals, cases, reports, events."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=1_000_000)
        parser.add_argument("--reports-per-case", type=int, default=3, help="Average reports per case (≥ 1).")
        parser.add_argument("--open-fraction", type=float, default=0.05,
                            help="Share of cases still open (newest first), 0..0.75.")
        parser.add_argument("--overdue", type=int, default=0,
                            help="Open cases whose first-touch and resolution due times have already passed.")
        parser.add_argument("--analysts", type=int, default=20, help="Bench analysts who resolved the history.")
        parser.add_argument("--days", type=int, default=180, help="Days of resolved history.")
        parser.add_argument("--prefix", default="bench", help="External id prefix of the generated rows.")
        parser.add_argument("--chunk", type=int, default=200_000, help="Cases per transaction.")
        parser.add_argument("--seed", type=float, default=0.42, help="PostgreSQL setseed() value, -1..1.")

    # ------------------------------------------------------------------ helpers

    def _step(self, name: str, started: float, **figures):
        line = {"step": name, "seconds": round(time.monotonic() - started, 2), **figures}
        self.stdout.write(json.dumps(line))

    def _validate(self, o):
        if o["cases"] < 1 or o["reports_per_case"] < 1:
            raise CommandError("--cases and --reports-per-case must be at least 1.")
        if not 0 <= o["open_fraction"] <= 0.75:
            raise CommandError("--open-fraction must be between 0 and 0.75.")
        if o["overdue"] < 0 or o["overdue"] > round(o["cases"] * o["open_fraction"]):
            raise CommandError("--overdue must be between 0 and the number of open cases.")
        if o["analysts"] < 1 or o["days"] < 1 or o["chunk"] < 1000:
            raise CommandError("--analysts and --days must be at least 1, --chunk at least 1000.")
        if not -1 <= o["seed"] <= 1:
            raise CommandError("--seed must be between -1 and 1.")
        if Subject.objects.filter(external_id__startswith=f"{o['prefix']}-").exists():
            raise CommandError(f"Rows with prefix {o['prefix']!r} exist already: pass another --prefix "
                               "or use a fresh database.")

    def _analysts(self, prefix: str, count: int) -> list[int]:
        User = get_user_model()
        group = Group.objects.get_or_create(name=roles.ANALYST)[0]
        team = Team.objects.filter(slug="trust-safety").first()
        ids = []
        for n in range(1, count + 1):
            user, created = User.objects.get_or_create(username=f"{prefix}-analyst-{n}")
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(group)
                if team:
                    TeamMembership.objects.get_or_create(team=team, user=user)
            ids.append(user.id)
        return ids

    def _routes(self) -> list[tuple]:
        """(weight, category, source, queue, priority, reasons, first-touch min, resolution min) per kind of case.

        Every case the generator makes belongs to one of these kinds; routing and priority come from
        the functions intake uses, so the dataset looks like the product made it.
        """
        table = RoutingTable.load()
        slas = {(s.queue_id, s.priority): s for s in QueueSla.objects.all()}
        leaves = [c for c in Category.objects.select_related("parent").filter(is_active=True)
                  if not c.children.exists()]
        if not leaves:
            raise CommandError("No active categories: run migrate first.")
        routes = []
        for category in leaves:
            group = category.parent.slug if category.parent_id else category.slug
            per_group = [c for c in leaves if (c.parent.slug if c.parent_id else c.slug) == group]
            weight_of_category = GROUP_WEIGHTS.get(group, 2) * 100 // len(per_group)
            for source, source_weight in SOURCE_WEIGHTS:
                facts = PriorityFacts(reporters=1)
                facts.add_report(severity=category.default_severity, category_name=category.name, source=source,
                                 score=0.93 if source == Source.AUTOMATED else None)
                verdict = assess(facts)
                route = table.route(category_id=category.id, source=source)
                sla = slas.get((route.queue_id, verdict.priority))
                if sla is None:
                    continue  # a queue without a clock for this priority is not part of the SLA benchmarks
                weight = max(1, weight_of_category * source_weight // 100)
                routes.append((weight, category.id, str(source), route.queue_id, verdict.priority,
                               json.dumps(verdict.reasons), sla.first_touch_minutes, sla.resolution_minutes))
        return routes

    # ------------------------------------------------------------------ main

    def handle(self, *args, **o):
        self._validate(o)
        started_all = time.monotonic()
        prefix, n_cases, k = o["prefix"], o["cases"], o["reports_per_case"]
        n_open = round(n_cases * o["open_fraction"])
        n_subjects = max(math.ceil(n_cases * 0.75), n_open, 2)
        n_accounts = max(1, math.ceil(n_subjects * 0.4))
        first_open = n_cases - n_open + 1  # case numbers first_open..n_cases are open
        analysts = self._analysts(prefix, o["analysts"])
        routes = self._routes()

        with connection.cursor() as cur:
            cur.execute("SELECT setseed(%s)", [o["seed"]])
            cur.execute("DROP TABLE IF EXISTS bench_route, bench_analyst, bench_subject")
            cur.execute("CREATE TEMP TABLE bench_route (k int, category_id bigint, source text, queue_id bigint, "
                        "priority smallint, reasons jsonb, ft_minutes int, res_minutes int)")
            rows, k_next = [], 0
            for weight, *rest in routes:
                for _ in range(weight):
                    rows.append((k_next, *rest))
                    k_next += 1
            cur.executemany("INSERT INTO bench_route VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
            n_routes = k_next
            cur.execute("CREATE TEMP TABLE bench_analyst (k int, user_id int)")
            cur.executemany("INSERT INTO bench_analyst VALUES (%s, %s)", list(enumerate(analysts)))

            # ---- subjects: accounts 1..A, content A+1..S (authored by accounts)
            t = time.monotonic()
            with transaction.atomic():
                cur.execute("""
                    CREATE TEMP TABLE bench_subject AS
                    SELECT n, nextval(pg_get_serial_sequence('cases_subject', 'id')) AS id
                    FROM generate_series(1, %s) n
                """, [n_subjects])
                cur.execute("CREATE UNIQUE INDEX ON bench_subject (n)")
                cur.execute("""
                    INSERT INTO cases_subject (id, kind, external_id, handle, follower_count, verified, account_type,
                        platform_created_at, content_type, text, url, author_id, first_seen_at, updated_at)
                    SELECT b.id, 'account', %(p)s || '-acct-' || b.n, 'user_' || b.n,
                        floor(power(10, random() * random() * 6.5))::bigint,
                        random() < 0.01,
                        CASE WHEN random() < 0.08 THEN 'business' WHEN random() < 0.01 THEN 'enterprise'
                             ELSE 'private' END,
                        now() - random() * interval '2500 days', '', '', '', NULL,
                        now() - random() * interval '400 days', now()
                    FROM bench_subject b WHERE b.n <= %(a)s
                """, {"p": prefix, "a": n_accounts})
                cur.execute("""
                    INSERT INTO cases_subject (id, kind, external_id, handle, follower_count, verified, account_type,
                        platform_created_at, content_type, text, url, author_id, first_seen_at, updated_at)
                    SELECT b.id, 'content', %(p)s || '-content-' || b.n, '', NULL, false, '', NULL,
                        (ARRAY['post','post','post','comment','comment','message','listing','review','media',
                               'transaction'])[1 + (b.n %% 10)],
                        (ARRAY%(texts)s)[1 + (b.n %% %(nt)s)],
                        'https://platform.example/c/' || b.n, author.id,
                        now() - random() * interval '200 days', now()
                    FROM bench_subject b
                    JOIN bench_subject author ON author.n = 1 + ((b.n::bigint * 7919) %% %(a)s)
                    WHERE b.n > %(a)s
                """.replace("%(texts)s", "[" + ", ".join(_sql_literal(d) for d in DESCRIPTIONS) + "]"),
                    {"p": prefix, "a": n_accounts, "nt": len(DESCRIPTIONS)})
            self._step("subjects", t, accounts=n_accounts, content=n_subjects - n_accounts)

            # ---- signals: email per account; devices shared by 5 accounts; IPs shared by 10
            t = time.monotonic()
            with transaction.atomic():
                cur.execute("""
                    WITH wanted AS (
                        SELECT b.n, b.id AS subject_id, 'email_hash' AS kind,
                               encode(sha256(convert_to(%(p)s || '-email-' || b.n, 'UTF8')), 'hex') AS h
                        FROM bench_subject b WHERE b.n <= %(a)s
                        UNION ALL
                        SELECT b.n, b.id, 'device_id',
                               encode(sha256(convert_to(%(p)s || '-device-' || (b.n / 5), 'UTF8')), 'hex')
                        FROM bench_subject b WHERE b.n <= %(a)s AND b.n %% 4 = 0
                        UNION ALL
                        SELECT b.n, b.id, 'ip',
                               encode(sha256(convert_to(%(p)s || '-ip-' || (b.n / 10), 'UTF8')), 'hex')
                        FROM bench_subject b WHERE b.n <= %(a)s AND b.n %% 3 = 0
                    ),
                    signals AS (
                        INSERT INTO cases_signal (kind, value_hash, first_seen_at)
                        SELECT DISTINCT kind, h, now() FROM wanted
                        ON CONFLICT (kind, value_hash) DO NOTHING
                        RETURNING id, kind, value_hash
                    )
                    INSERT INTO cases_subjectsignal (subject_id, signal_id, first_seen_at)
                    SELECT w.subject_id, s.id, now() FROM wanted w
                    JOIN signals s ON s.kind = w.kind AND s.value_hash = w.h
                    ON CONFLICT DO NOTHING
                """, {"p": prefix, "a": n_accounts})
                links = cur.rowcount
            self._step("signals", t, subject_signal_links=links)

            # ---- cases, reports and events, chunk by chunk
            totals = {"cases": 0, "open": 0, "overdue": 0, "reports": 0, "events": 0}
            for lo in range(1, n_cases + 1, o["chunk"]):
                hi = min(n_cases, lo + o["chunk"] - 1)
                t = time.monotonic()
                with transaction.atomic():
                    figures = self._chunk(cur, lo, hi, prefix=prefix, n_cases=n_cases, n_subjects=n_subjects,
                                          first_open=first_open, overdue=o["overdue"], k=k, days=o["days"],
                                          n_routes=n_routes, n_analysts=len(analysts))
                for key, value in figures.items():
                    totals[key] += value
                self._step("cases", t, first=lo, last=hi, **figures)

            t = time.monotonic()
            cur.execute("DROP TABLE IF EXISTS bench_route, bench_analyst, bench_subject")
            for table in ("cases_subject", "cases_signal", "cases_subjectsignal", "cases_case", "cases_report",
                          "cases_caseevent"):
                cur.execute(f"ANALYZE {table}")
            self._step("analyze", t)
        self.stdout.write(json.dumps({
            "bench": "generate", "seconds": round(time.monotonic() - started_all, 1), "subjects": n_subjects,
            **totals,
        }))

    def _chunk(self, cur, lo, hi, *, prefix, n_cases, n_subjects, first_open, overdue, k, days, n_routes,
               n_analysts) -> dict:
        """Cases lo..hi with their reports and events. Case i is about subject ((i-1) mod S)+1, so the open
        (newest) cases, fewer than S, all have distinct subjects."""
        params = {
            "lo": lo, "hi": hi, "n": n_cases, "s": n_subjects, "first_open": first_open,
            "last_overdue": first_open + overdue - 1, "k": k, "days": days, "routes": n_routes,
            "analysts": n_analysts, "p": prefix,
        }
        cur.execute("DROP TABLE IF EXISTS bench_case")
        # Per case: its route (category, source, queue, priority) and its clock. Resolved history runs
        # oldest to newest with the case number; open cases opened recently enough that both due times
        # lie ahead, overdue ones long enough ago that both have passed.
        cur.execute("""
            CREATE TEMP TABLE bench_case AS
            SELECT c.*,
                   c.opened_at + c.ft_minutes * interval '1 minute' AS ft_due,
                   c.opened_at + c.res_minutes * interval '1 minute' AS res_due,
                   CASE WHEN c.open THEN NULL
                        ELSE c.opened_at + random() * 1.2 * c.ft_minutes * interval '1 minute' END AS touched_at,
                   CASE WHEN c.open THEN NULL
                        ELSE c.opened_at + (0.05 + random() * 1.25) * c.res_minutes * interval '1 minute'
                   END AS resolved_at
            FROM (
                SELECT i, nextval(pg_get_serial_sequence('cases_case', 'id')) AS id, subj.id AS subject_id,
                       r.category_id, r.source, r.queue_id, r.priority, r.reasons, r.ft_minutes, r.res_minutes,
                       i >= %(first_open)s AS open,
                       CASE WHEN %(k)s = 1 THEN 1 ELSE %(k)s + (i %% 3) - 1 END AS n_reports,
                       CASE
                         WHEN i < %(first_open)s THEN
                           now() - interval '1 day'
                           - (%(days)s * interval '1 day') * (1 - i::float8 / GREATEST(%(first_open)s, 2))
                           - random() * interval '6 hours'
                         WHEN i <= %(last_overdue)s THEN
                           now() - (1 + random()) * r.res_minutes * interval '1 minute'
                         ELSE now() - random() * 0.9 * r.ft_minutes * interval '1 minute'
                       END AS opened_at
                FROM generate_series(%(lo)s, %(hi)s) i
                JOIN bench_subject subj ON subj.n = 1 + ((i - 1) %% %(s)s)
                JOIN bench_route r ON r.k = (i::bigint * 2654435761) %% %(routes)s
            ) c
        """, params)
        cur.execute("""
            INSERT INTO cases_case (id, subject_id, queue_id, category_id, status, priority, priority_reasons,
                assignee_id, claimed_at, last_activity_at, first_touched_at, first_touch_due_at, resolution_due_at,
                sla_paused_at, sla_paused_seconds, hold_reason, resolution, resolution_reason, resolved_by_id,
                resolved_at, report_count, reporter_count, opened_at, updated_at)
            SELECT b.id, b.subject_id, b.queue_id, b.category_id,
                   CASE WHEN b.open THEN 'open' ELSE 'resolved' END, b.priority, b.reasons,
                   a.user_id, LEAST(b.touched_at, b.resolved_at), COALESCE(b.resolved_at, b.opened_at),
                   LEAST(b.touched_at, b.resolved_at), b.ft_due, b.res_due,
                   NULL, 0, '',
                   CASE WHEN b.open THEN ''
                        WHEN b.i %% 20 = 0 THEN 'duplicate'
                        WHEN b.i %% 5 < 3 THEN 'actioned' ELSE 'no_violation' END,
                   CASE WHEN b.open THEN '' WHEN b.i %% 5 < 3 THEN 'Violates policy.' ELSE 'Within policy.' END,
                   a.user_id, b.resolved_at, b.n_reports, b.n_reports, b.opened_at,
                   COALESCE(b.resolved_at, b.opened_at)
            FROM bench_case b
            LEFT JOIN bench_analyst a ON NOT b.open AND a.k = b.i %% %(analysts)s
        """, params)
        n = cur.rowcount
        cur.execute("""
            INSERT INTO cases_report (source, external_id, subject_id, case_id, category_id, reporter_ref,
                description, classifier_label, classifier_score, language, territory, explanation, exact_location,
                notifier_name, notifier_email, good_faith_statement, trusted_flagger_id, submitted_by_id,
                received_at, created_at)
            SELECT src, %(p)s || '-r-' || b.i || '-' || j, b.subject_id, b.id, b.category_id,
                   CASE WHEN src = 'automated' THEN '' ELSE 'reporter-' || ((b.i::bigint * 31 + j * 7919) %% 400000) END,
                   (ARRAY%(texts)s)[1 + ((b.i + j) %% %(nt)s)],
                   CASE WHEN src = 'automated' THEN 'model-v3' ELSE '' END,
                   CASE WHEN src = 'automated' THEN round((0.55 + random() * 0.45)::numeric, 3)::float8 END,
                   (ARRAY['en','en','en','de','fr','es','it','pt-BR','nl','pl'])[1 + (b.i %% 10)],
                   (ARRAY['IE','DE','FR','ES','IT','NL','PL','PT','GB','US'])[1 + (b.i %% 10)],
                   '', '', '', '', NULL, NULL, NULL, ts, ts
            FROM bench_case b
            CROSS JOIN LATERAL generate_series(1, b.n_reports) j
            CROSS JOIN LATERAL (SELECT CASE WHEN j = 1 THEN b.source
                                            WHEN (b.i + j) %% 4 = 0 THEN 'automated'
                                            ELSE 'user_report' END AS src,
                                       LEAST(b.opened_at + (j - 1) * interval '3 minutes',
                                             COALESCE(b.resolved_at, 'infinity')) AS ts) x
        """.replace("%(texts)s", "[" + ", ".join(_sql_literal(d) for d in DESCRIPTIONS) + "]"),
            {**params, "nt": len(DESCRIPTIONS)})
        n_reports = cur.rowcount
        cur.execute("""
            INSERT INTO cases_caseevent (case_id, actor_id, actor_kind, verb, from_status, to_status, data,
                                         created_at)
            SELECT b.id, NULL, 'system', 'opened', '', 'open',
                   jsonb_build_object('queue', q.slug, 'priority', b.priority, 'reasons', b.reasons,
                                      'source', b.source),
                   b.opened_at
            FROM bench_case b JOIN cases_queue q ON q.id = b.queue_id
            UNION ALL
            SELECT b.id, a.user_id, 'user', 'resolved', 'in_review', 'resolved',
                   jsonb_build_object('resolution', c.resolution, 'reason', c.resolution_reason),
                   b.resolved_at
            FROM bench_case b JOIN cases_case c ON c.id = b.id
            JOIN bench_analyst a ON a.k = b.i %% %(analysts)s
            WHERE NOT b.open
        """, params)
        n_events = cur.rowcount
        cur.execute("SELECT count(*) FILTER (WHERE open), count(*) FILTER (WHERE open AND res_due < now()) "
                    "FROM bench_case")
        n_open, n_overdue = cur.fetchone()
        cur.execute("DROP TABLE bench_case")
        return {"cases": n, "open": n_open, "overdue": n_overdue, "reports": n_reports, "events": n_events}


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"

