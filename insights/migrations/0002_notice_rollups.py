"""Notice rollups for the transparency report: notices per UTC day by category and source, and the
time of each case's first notice, kept by statement-level triggers on the reports table and filled
from the reports already stored (one grouped pass over the reports each, in the migration's
transaction: the trigger's lock holds report writes back for those seconds, so none is missed or
counted twice).

Additive: two new tables and triggers that only write them; code that does not know them keeps
working (its report writes fill them like any other).
"""

import django.db.models.deletion
from django.db import migrations, models


REPORT_DAY = "(({t}.received_at AT TIME ZONE 'UTC')::date)"

SQL = f"""
CREATE OR REPLACE FUNCTION insights_first_notice_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM insights_casefirstnotice WHERE case_id = ANY(ids);
    INSERT INTO insights_casefirstnotice (case_id, received_at)
    SELECT case_id, min(received_at) FROM cases_report WHERE case_id = ANY(ids) GROUP BY case_id
    ON CONFLICT (case_id) DO UPDATE SET received_at = EXCLUDED.received_at;
$$;

CREATE FUNCTION insights_reports_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insights_noticeday (day, category_id, source, notices)
    SELECT {REPORT_DAY.format(t="n")}, n.category_id, n.source, count(*) FROM new_reports n GROUP BY 1, 2, 3;
    INSERT INTO insights_casefirstnotice AS f (case_id, received_at)
    SELECT case_id, min(received_at) FROM new_reports GROUP BY case_id ORDER BY case_id
    ON CONFLICT (case_id) DO UPDATE SET received_at = EXCLUDED.received_at
    WHERE f.received_at > EXCLUDED.received_at;
    RETURN NULL;
END $$;

CREATE FUNCTION insights_reports_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    affected bigint[];
BEGIN
    INSERT INTO insights_noticeday (day, category_id, source, notices)
    SELECT day, category_id, source, sum(d) FROM (
        SELECT {REPORT_DAY.format(t="o")} AS day, o.category_id, o.source, -1 AS d
        FROM old_reports o JOIN new_reports n ON n.id = o.id
        WHERE (o.received_at, o.category_id, o.source) IS DISTINCT FROM (n.received_at, n.category_id, n.source)
        UNION ALL
        SELECT {REPORT_DAY.format(t="n")}, n.category_id, n.source, 1
        FROM old_reports o JOIN new_reports n ON n.id = o.id
        WHERE (o.received_at, o.category_id, o.source) IS DISTINCT FROM (n.received_at, n.category_id, n.source)
    ) moved GROUP BY 1, 2, 3 HAVING sum(d) <> 0;
    SELECT array_agg(DISTINCT c) INTO affected FROM (
        SELECT unnest(ARRAY[o.case_id, n.case_id]) AS c FROM old_reports o JOIN new_reports n ON n.id = o.id
        WHERE (o.received_at, o.case_id) IS DISTINCT FROM (n.received_at, n.case_id)
    ) moved;
    IF affected IS NOT NULL THEN
        PERFORM insights_first_notice_refresh(affected);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION insights_reports_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    affected bigint[];
BEGIN
    INSERT INTO insights_noticeday (day, category_id, source, notices)
    SELECT {REPORT_DAY.format(t="o")}, o.category_id, o.source, -count(*) FROM old_reports o GROUP BY 1, 2, 3;
    SELECT array_agg(DISTINCT case_id) INTO affected FROM old_reports;
    IF affected IS NOT NULL THEN
        PERFORM insights_first_notice_refresh(affected);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER insights_reports_inserted AFTER INSERT ON cases_report
    REFERENCING NEW TABLE AS new_reports FOR EACH STATEMENT EXECUTE FUNCTION insights_reports_inserted();
CREATE TRIGGER insights_reports_updated AFTER UPDATE ON cases_report
    REFERENCING OLD TABLE AS old_reports NEW TABLE AS new_reports
    FOR EACH STATEMENT EXECUTE FUNCTION insights_reports_updated();
CREATE TRIGGER insights_reports_deleted AFTER DELETE ON cases_report
    REFERENCING OLD TABLE AS old_reports FOR EACH STATEMENT EXECUTE FUNCTION insights_reports_deleted();

INSERT INTO insights_noticeday (day, category_id, source, notices)
SELECT {REPORT_DAY.format(t="r")}, r.category_id, r.source, count(*) FROM cases_report r GROUP BY 1, 2, 3;
INSERT INTO insights_casefirstnotice (case_id, received_at)
SELECT case_id, min(received_at) FROM cases_report GROUP BY case_id;
ANALYZE insights_noticeday;
ANALYZE insights_casefirstnotice;
"""

REVERSE_SQL = """
DROP TRIGGER insights_reports_inserted ON cases_report;
DROP TRIGGER insights_reports_updated ON cases_report;
DROP TRIGGER insights_reports_deleted ON cases_report;
DROP FUNCTION insights_reports_inserted();
DROP FUNCTION insights_reports_updated();
DROP FUNCTION insights_reports_deleted();
DROP FUNCTION insights_first_notice_refresh(bigint[]);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0012_case_open_cover'),
        ('insights', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseFirstNotice',
            fields=[
                ('case', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='cases.case')),
                ('received_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='NoticeDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('source', models.CharField(max_length=24)),
                ('notices', models.IntegerField()),
                ('category', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.category')),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='notice_day_day')],
            },
        ),
        migrations.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
