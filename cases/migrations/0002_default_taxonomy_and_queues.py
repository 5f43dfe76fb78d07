"""The default abuse taxonomy (group → subcategory, DSA-mapped) and a starting set of queues."""

from django.db import migrations

C = "STATEMENT_CATEGORY_"
# (slug, name, dsa category, dsa keyword, default severity 0-3, sensitive, [children...])
TAXONOMY = [
    ("child-safety", "Child safety", C + "PROTECTION_OF_MINORS", "", 0, True, [
        ("csam", "Child sexual abuse material", C + "PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", 0, True),
        ("grooming", "Grooming and sexual exploitation of minors", C + "PROTECTION_OF_MINORS", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", 0, False),
        ("underage-user", "Underage user", C + "PROTECTION_OF_MINORS", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", 2, False),
    ]),
    ("violent-extremism", "Violent extremism", C + "RISK_FOR_PUBLIC_SECURITY", "", 0, True, [
        ("terrorist-content", "Terrorist content", C + "RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT", 0, True),
        ("extremist-glorification", "Glorification of violent extremism", C + "RISK_FOR_PUBLIC_SECURITY", "KEYWORD_VIOLENT_EXTREMISM", 1, False),
    ]),
    ("violence-threats", "Violence and threats", C + "VIOLENCE", "", 1, False, [
        ("credible-threat", "Credible threat of violence", C + "VIOLENCE", "KEYWORD_INCITEMENT_VIOLENCE_HATRED", 0, False),
        ("graphic-violence", "Graphic violence", C + "VIOLENCE", "", 1, True),
    ]),
    ("hate", "Hate", C + "ILLEGAL_OR_HARMFUL_SPEECH", "", 2, False, [
        ("hate-speech", "Hate speech", C + "ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_HATE_SPEECH", 2, False),
        ("hateful-imagery", "Hateful symbols and imagery", C + "ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_HATE_SPEECH", 2, True),
    ]),
    ("harassment", "Harassment and bullying", C + "ILLEGAL_OR_HARMFUL_SPEECH", "", 2, False, [
        ("targeted-harassment", "Targeted harassment", C + "ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_DEFAMATION", 2, False),
        ("cyberstalking", "Cyberstalking", C + "NON_CONSENSUAL_BEHAVIOUR", "KEYWORD_CYBERSTALKING", 1, False),
    ]),
    ("ncii", "Non-consensual intimate imagery", C + "NON_CONSENSUAL_BEHAVIOUR", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", 0, True, []),
    ("adult-content", "Adult content", C + "PORNOGRAPHY_OR_SEXUALIZED_CONTENT", "", 3, True, [
        ("nudity", "Adult nudity", C + "PORNOGRAPHY_OR_SEXUALIZED_CONTENT", "KEYWORD_ADULT_SEXUAL_MATERIAL", 3, True),
        ("sexual-solicitation", "Sexual solicitation", C + "PORNOGRAPHY_OR_SEXUALIZED_CONTENT", "", 2, False),
    ]),
    ("self-harm", "Suicide and self-harm", C + "SELF_HARM", "", 0, True, [
        ("self-harm-promotion", "Promotion of self-harm", C + "SELF_HARM", "KEYWORD_SELF_MUTILATION", 1, True),
        ("eating-disorders", "Eating disorders", C + "SELF_HARM", "KEYWORD_EATING_DISORDERS", 2, False),
    ]),
    ("scams-fraud", "Scams, fraud and impersonation", C + "SCAMS_AND_FRAUD", "", 1, False, [
        ("phishing", "Phishing", C + "SCAMS_AND_FRAUD", "KEYWORD_PHISHING", 1, False),
        ("financial-scam", "Financial scam", C + "SCAMS_AND_FRAUD", "KEYWORD_FRAUD", 1, False),
        ("impersonation", "Impersonation", C + "SCAMS_AND_FRAUD", "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", 2, False),
    ]),
    ("spam-manipulation", "Spam and platform manipulation", C + "SCOPE_OF_PLATFORM_SERVICE", "", 3, False, [
        ("spam", "Spam", C + "SCOPE_OF_PLATFORM_SERVICE", "", 3, False),
        ("fake-engagement", "Fake engagement and inauthentic accounts", C + "SCOPE_OF_PLATFORM_SERVICE", "KEYWORD_INAUTHENTIC_ACCOUNTS", 3, False),
    ]),
    ("misinformation", "Misinformation", C + "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "", 2, False, [
        ("election-misinformation", "Election misinformation", C + "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "KEYWORD_MISINFORMATION_DISINFORMATION", 1, False),
        ("health-misinformation", "Health misinformation", C + "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "KEYWORD_MISINFORMATION_DISINFORMATION", 2, False),
    ]),
    ("privacy-doxxing", "Privacy and doxxing", C + "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "", 1, False, [
        ("doxxing", "Doxxing", C + "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "KEYWORD_DOXXING", 1, False),
        ("private-information", "Private information", C + "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "KEYWORD_PRIVACY_VIOLATIONS", 2, False),
    ]),
    ("ip-counterfeits", "Intellectual property and counterfeits", C + "INTELLECTUAL_PROPERTY_INFRINGEMENTS", "", 3, False, [
        ("copyright", "Copyright infringement", C + "INTELLECTUAL_PROPERTY_INFRINGEMENTS", "KEYWORD_COPYRIGHT_INFRINGEMENT", 3, False),
        ("counterfeit", "Counterfeit goods", C + "INTELLECTUAL_PROPERTY_INFRINGEMENTS", "KEYWORD_TRADEMARK_INFRINGEMENT", 2, False),
    ]),
    ("marketplace", "Marketplace compliance", C + "UNSAFE_AND_ILLEGAL_PRODUCTS", "", 2, False, [
        ("prohibited-items", "Prohibited or illegal items", C + "UNSAFE_AND_ILLEGAL_PRODUCTS", "KEYWORD_PROHIBITED_PRODUCTS", 1, False),
        ("unsafe-products", "Unsafe products", C + "UNSAFE_AND_ILLEGAL_PRODUCTS", "KEYWORD_UNSAFE_PRODUCTS", 2, False),
    ]),
]

# (slug, name, teams, SLA per priority P0..P3 as (first touch, resolution) minutes, default?)
QUEUES = [
    ("general", "General", [], [(15, 120), (60, 480), (240, 1440), (720, 4320)], True),
    ("child-safety", "Child safety", ["child-safety", "leads"], [(5, 60), (15, 180), (60, 720), (240, 1440)], False),
    ("legal", "Legal requests", ["legal", "leads"], [(60, 480), (240, 1440), (480, 2880), (1440, 4320)], False),
    ("fraud-marketplace", "Fraud and marketplace", [], [(15, 120), (60, 480), (240, 1440), (720, 4320)], False),
]
RULES = [
    (10, "Child safety", "child-safety", {"category": "child-safety"}),
    (20, "Legal requests", "legal", {"source": "legal_request"}),
    (30, "Scams and fraud", "fraud-marketplace", {"category": "scams-fraud"}),
    (40, "Marketplace", "fraud-marketplace", {"category": "marketplace"}),
]


def forwards(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Queue = apps.get_model("cases", "Queue")
    QueueSla = apps.get_model("cases", "QueueSla")
    RoutingRule = apps.get_model("cases", "RoutingRule")
    Team = apps.get_model("tsconsole", "Team")

    for position, (slug, name, dsa, keyword, severity, sensitive, children) in enumerate(TAXONOMY):
        parent, _ = Category.objects.get_or_create(slug=slug, defaults=dict(
            name=name, dsa_category=dsa, dsa_keyword=keyword, default_severity=severity,
            sensitive=sensitive, position=position * 10,
        ))
        for child_position, (cslug, cname, cdsa, ckeyword, cseverity, csensitive) in enumerate(children):
            Category.objects.get_or_create(slug=cslug, defaults=dict(
                name=cname, parent=parent, dsa_category=cdsa, dsa_keyword=ckeyword,
                default_severity=cseverity, sensitive=csensitive, position=position * 10 + child_position + 1,
            ))

    for position, (slug, name, team_slugs, slas, is_default) in enumerate(QUEUES):
        queue, created = Queue.objects.get_or_create(slug=slug, defaults=dict(
            name=name, is_default=is_default, position=position * 10,
        ))
        if created:
            queue.allowed_teams.set(Team.objects.filter(slug__in=team_slugs))
            for priority, (touch, resolve) in enumerate(slas):
                QueueSla.objects.create(queue=queue, priority=priority, first_touch_minutes=touch, resolution_minutes=resolve)

    for position, name, queue_slug, match in RULES:
        queue = Queue.objects.get(slug=queue_slug)
        category = Category.objects.get(slug=match["category"]) if "category" in match else None
        RoutingRule.objects.get_or_create(name=name, defaults=dict(
            position=position, queue=queue, category=category, source=match.get("source", ""),
        ))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("tsconsole", "0002_roles_and_default_teams")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
