"""A default policy for each top-level category of the default taxonomy, with strike ladders, and a
few statement macros. Admins edit them afterwards (each edit makes a new policy version)."""

from django.db import migrations

ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
TOS = "DECISION_GROUND_INCOMPATIBLE_CONTENT"


def warn():
    return {"action": "warn"}


def restrict(hours):
    return {"action": "feature_restriction", "duration_hours": hours}


def suspend(hours):
    return {"action": "suspension", "duration_hours": hours}


def hold(hours):
    return {"action": "transaction_hold", "duration_hours": hours}


TERMINATE = {"action": "termination"}

# (category slug, policy name, ground, strike window in days, ladder, user-facing rule, internal guidance)
POLICIES = [
    ("child-safety", "Child safety", ILLEGAL, 3650, [TERMINATE],
     "We do not allow content or behaviour that sexualises, exploits or endangers children.",
     "Zero tolerance: remove the content, terminate the account, and escalate to the child-safety team for the "
     "legal report. Do not download or forward material; capture hashes only."),
    ("violent-extremism", "Violent extremism", ILLEGAL, 730, [suspend(24 * 30), TERMINATE],
     "We do not allow terrorist content or content that praises, supports or represents violent extremist groups.",
     "Terrorist content (listed organisations, attack footage, manifestos) goes straight to termination; "
     "glorification without operational content starts at the first step. News and counter-speech are allowed."),
    ("violence-threats", "Violence and threats", TOS, 365, [suspend(72), suspend(24 * 30), TERMINATE],
     "We do not allow threats of violence or content that incites violence against people.",
     "A credible, specific threat (named target, time or place) is escalated at once. Hyperbole between "
     "friends and fiction are not threats; record why you read it as credible."),
    ("hate", "Hate", TOS, 180, [warn(), restrict(72), suspend(168), TERMINATE],
     "We do not allow attacks on people based on protected characteristics.",
     "Attack on the person or group for a protected characteristic, not criticism of ideas or institutions. "
     "Reclaimed terms used by the group itself are allowed."),
    ("harassment", "Harassment and bullying", TOS, 180, [warn(), restrict(24), suspend(168), TERMINATE],
     "We do not allow targeted harassment, bullying or stalking of people.",
     "Look for repetition and a target. Public figures get more room for criticism, not for abuse."),
    ("ncii", "Non-consensual intimate imagery", ILLEGAL, 3650, [TERMINATE],
     "We do not allow sharing intimate images of someone without their consent.",
     "Remove the content and terminate. Add the hash to the match list through the child-safety/legal "
     "process; never ask the victim to prove the image is theirs beyond the report."),
    ("adult-content", "Adult content", TOS, 90, [warn(), restrict(168), suspend(168), TERMINATE],
     "Adult nudity and sexual content are allowed only where the platform permits it, behind an age gate.",
     "Prefer restricting visibility (age-restrict) over removal for consensual adult content in permitted areas."),
    ("self-harm", "Suicide and self-harm", TOS, 90, [warn(), restrict(24), restrict(168)],
     "We do not allow content that promotes or encourages suicide, self-harm or eating disorders.",
     "People at risk get support resources, not penalties: use the supportive path for first-person posts. "
     "Strikes are for promotion or instruction."),
    ("scams-fraud", "Scams, fraud and impersonation", TOS, 365, [restrict(72), suspend(168), TERMINATE],
     "We do not allow scams, phishing, fraud or pretending to be someone else to deceive people.",
     "Phishing and account-takeover kits go straight to termination with a transaction hold if the account "
     "takes payments. Parody accounts that say so are not impersonation."),
    ("spam-manipulation", "Spam and platform manipulation", TOS, 90, [warn(), restrict(24), suspend(72), TERMINATE],
     "We do not allow spam, fake engagement or inauthentic accounts.",
     "Check the linked accounts panel: rings are handled together, and the first account found is rarely "
     "the only one."),
    ("misinformation", "Misinformation", TOS, 180, [warn(), restrict(24), restrict(168), suspend(168)],
     "We label or limit false information that can cause real-world harm, including about elections and health.",
     "Label or restrict visibility before removal; remove only content covered by the harm list "
     "(voting procedures, dangerous health claims)."),
    ("privacy-doxxing", "Privacy and doxxing", TOS, 365, [suspend(24), suspend(168), TERMINATE],
     "We do not allow sharing someone's private information without their permission.",
     "Home addresses, private phone numbers, identity documents and financial details are private even if "
     "found elsewhere online."),
    ("ip-counterfeits", "Intellectual property and counterfeits", ILLEGAL, 365, [warn(), restrict(168), TERMINATE],
     "We remove content that infringes copyright or trademarks, and counterfeit goods.",
     "Act on complete notices from rights holders; repeat infringers are terminated at the third strike."),
    ("marketplace", "Marketplace compliance", TOS, 365, [warn(), hold(168), suspend(24 * 30), TERMINATE],
     "Listings must follow the marketplace rules: no prohibited, illegal or unsafe products.",
     "Remove the listing; hold payouts when buyers may need refunds. Recalled products are unsafe products."),
]

MACROS = [
    ("removed-content", "Content removed", None,
     "We removed your {subject} because it breaks our rule on {policy}: {rule} {reason}"),
    ("account-suspended", "Account suspended", None,
     "Your account {handle} is suspended until {end_date} because it broke our rule on {policy}: {rule} "
     "You can appeal this decision."),
    ("visibility-limited", "Visibility limited", None,
     "We limited who can see your {subject} because it breaks our rule on {policy}: {rule}"),
    ("warning", "Warning", None,
     "This is a warning: your {subject} broke our rule on {policy}: {rule} Repeated violations lead to "
     "restrictions on your account."),
    ("listing-removed", "Listing removed", "marketplace",
     "We removed your listing because {item} cannot be sold on the marketplace. {rule}"),
    ("private-info-removed", "Private information removed", "privacy-doxxing",
     "We removed your {subject} because it shared someone's private information ({what}). {rule}"),
]


def forwards(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Policy = apps.get_model("enforcement", "Policy")
    PolicyVersion = apps.get_model("enforcement", "PolicyVersion")
    Macro = apps.get_model("enforcement", "Macro")

    for slug, name, ground, window, ladder, rule, guidance in POLICIES:
        category = Category.objects.filter(slug=slug).first()
        if category is None or Policy.objects.filter(slug=slug).exists():
            continue
        policy = Policy.objects.create(
            slug=slug, name=name, category=category, guidance=guidance, rule_text=rule, ladder=ladder,
            strike_window_days=window, decision_ground=ground, version=1,
        )
        PolicyVersion.objects.create(
            policy=policy, version=1, guidance=guidance, rule_text=rule, ladder=ladder,
            strike_window_days=window, decision_ground=ground,
        )

    for slug, name, category_slug, body in MACROS:
        category = Category.objects.filter(slug=category_slug).first() if category_slug else None
        Macro.objects.get_or_create(slug=slug, defaults={"name": name, "body": body, "category": category})


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0001_initial"), ("cases", "0002_default_taxonomy_and_queues")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
