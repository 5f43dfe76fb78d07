"""DSA statements of reasons (Art. 17, 24(5)) in the EU Transparency Database API v2 format.

`statement_for` turns one restrictive enforcement action into the JSON the Transparency Database's
`POST /api/v2/statement(s)` accepts: exactly its field names and enum keys. `statement_errors`
checks a statement against the API's published rules (StatementStoreRequest and the API v2
documentation): required fields, enum values, the conditional fields of each decision ground,
"other" free-text companions, end dates per restriction, lengths and date formats. A statement
that fails is kept with its errors instead of being sent (the receiver would refuse it anyway).

No personal data goes into free text (Art. 24(5)): `scrub` removes email addresses, @handles,
phone numbers and URLs, and the subject's own handle and external id, from every text field.
"""

import re
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from cases.models import DSA_KEYWORDS, DsaCategory, Source, Subject
from enforcement.models import (
    ActionStatus,
    ActionType,
    AutomatedDecision,
    DecisionAccount,
    DecisionGround,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
)

# Actions that restrict something: every one of them yields a statement of reasons. A warning and
# "no violation" restrict nothing (Art. 17 does not apply), and an action never applied (pending,
# rejected) was never a decision the user received.
RESTRICTIONS = [t for t in ActionType.values if t not in (ActionType.WARN, ActionType.NO_VIOLATION)]
APPLIED_STATUSES = [ActionStatus.ACTIVE, ActionStatus.EXPIRED, ActionStatus.REVERSED]

SOURCE_TYPES = ["SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"]
CONTENT_TYPES = [
    "CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER",
]
ACCOUNT_TYPES = ["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"]
YES_NO = ["Yes", "No"]
EU_COUNTRIES = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
]
EEA_COUNTRIES = sorted(EU_COUNTRIES + ["IS", "LI", "NO"])
PUID_RE = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# How each intake source reads in the database's terms: a user's notice is an Art. 16 notice; a
# trusted flagger's is apart (Art. 22); orders and support escalations are other notifications;
# the platform's own detection is its voluntary initiative.
SOURCE_TYPE_BY_SOURCE = {
    Source.USER_REPORT: "SOURCE_ARTICLE_16",
    Source.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    Source.LEGAL_REQUEST: "SOURCE_TYPE_OTHER_NOTIFICATION",
    Source.SUPPORT_ESCALATION: "SOURCE_TYPE_OTHER_NOTIFICATION",
    Source.AUTOMATED: "SOURCE_VOLUNTARY",
}
# (content type, its "other" description) by the platform's content kind.
CONTENT_TYPE_BY_KIND = {
    Subject.ContentType.POST: ("CONTENT_TYPE_TEXT", ""),
    Subject.ContentType.COMMENT: ("CONTENT_TYPE_TEXT", ""),
    Subject.ContentType.MESSAGE: ("CONTENT_TYPE_TEXT", ""),
    Subject.ContentType.REVIEW: ("CONTENT_TYPE_TEXT", ""),
    Subject.ContentType.LISTING: ("CONTENT_TYPE_PRODUCT", ""),
    Subject.ContentType.MEDIA: ("CONTENT_TYPE_OTHER", "Media item"),
    Subject.ContentType.TRANSACTION: ("CONTENT_TYPE_OTHER", "Transaction"),
}
# Which end_date_* field belongs to each decision field.
END_DATE_FIELD = {
    "decision_visibility": "end_date_visibility_restriction",
    "decision_account": "end_date_account_restriction",
    "decision_provision": "end_date_service_restriction",
    "decision_monetary": "end_date_monetary_restriction",
}
VISIBILITY_OTHER_TEXT = "Visibility of the content restricted"
MONETARY_OTHER_TEXT = "Monetary payments restricted"

# ------------------------------------------------------------------------------------------ scrub

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[\w.]{2,}")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)")


_TOKEN = re.compile(r"@?[\w][\w.-]*")


def scrub(text: str, *, names: tuple[str, ...] = ()) -> str:
    """`text` without personal data: emails, URLs, @handles, phone numbers and the given names
    (the subject's handle and external id) are replaced by a bracketed word."""
    if not text:
        return ""
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub("[link]", text)
    wanted = {n.lower() for n in names if n and len(n) >= 3}
    if wanted:
        # one pass over the words (a pattern per name would be compiled for every statement)
        text = _TOKEN.sub(lambda m: "[account]" if m.group().lstrip("@").rstrip(".-").lower() in wanted
                          else m.group(), text)
        for name in wanted:
            if not re.fullmatch(r"[\w][\w.-]*", name) and name in text.lower():
                text = re.sub(re.escape(name), "[account]", text, flags=re.IGNORECASE)
    text = _HANDLE.sub("[account]", text)
    text = _PHONE.sub("[phone]", text)
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = timezone.localtime(value, timezone.get_fixed_timezone(0)).date()
    return value.isoformat()


def puid_for(action_id: int) -> str:
    """The platform's unique id of the statement: one per action, never reused, stable across
    re-submissions (the database refuses a second statement with the same puid)."""
    return f"{settings.DSA_PUID_PREFIX}-{action_id}"


# ------------------------------------------------------------------------------------------ build


def statement_for(action, *, first_report=None) -> dict:
    """The Transparency Database statement for one applied restrictive action.

    `action` comes with target (and its author), case, policy_version loaded; `first_report` is
    the case's earliest report (None: the platform acted on its own initiative).
    """
    target = action.target
    account = target if target.kind == Subject.Kind.ACCOUNT else target.author
    names = tuple(n for n in (target.handle, target.external_id, getattr(account, "handle", ""),
                              getattr(account, "external_id", "")) if n)
    statement: dict = {}

    # what was restricted
    if action.decision_visibility:
        statement["decision_visibility"] = [action.decision_visibility]
        if action.decision_visibility == DecisionVisibility.OTHER:
            statement["decision_visibility_other"] = VISIBILITY_OTHER_TEXT
    if action.decision_monetary:
        statement["decision_monetary"] = action.decision_monetary
        if action.decision_monetary == DecisionMonetary.OTHER:
            statement["decision_monetary_other"] = MONETARY_OTHER_TEXT
    if action.decision_provision:
        statement["decision_provision"] = action.decision_provision
    if action.decision_account:
        statement["decision_account"] = action.decision_account
    if account is not None and account.account_type:
        statement["account_type"] = (
            "ACCOUNT_TYPE_PRIVATE" if account.account_type == Subject.AccountType.PRIVATE else "ACCOUNT_TYPE_BUSINESS"
        )

    # why
    version = action.policy_version
    facts = scrub(action.statement, names=names) or scrub(version.rule_text, names=names)
    statement["decision_ground"] = action.decision_ground
    if settings.DSA_TERMS_URL:
        statement["decision_ground_reference_url"] = settings.DSA_TERMS_URL
    if action.decision_ground == DecisionGround.ILLEGAL_CONTENT:
        statement["illegal_content_legal_ground"] = _cut(scrub(version.rule_text, names=names) or action.policy.name, 500)
        statement["illegal_content_explanation"] = _cut(facts, 2000)
    else:
        statement["incompatible_content_ground"] = _cut(
            f"{action.policy.name}: {scrub(version.rule_text, names=names)}".strip(": "), 500)
        statement["incompatible_content_explanation"] = _cut(facts, 2000)

    # what it was about
    if target.kind == Subject.Kind.CONTENT:
        content_type, other = CONTENT_TYPE_BY_KIND.get(target.content_type, ("CONTENT_TYPE_OTHER", "Content item"))
    else:
        content_type, other = "CONTENT_TYPE_OTHER", "Account"
    statement["content_type"] = [content_type]
    if other:
        statement["content_type_other"] = other
    statement["category"] = action.category
    keyword = action.case.category.dsa_keyword if action.case.category.dsa_category == action.category else ""
    if keyword:
        statement["category_specification"] = [keyword]
        if keyword == "KEYWORD_OTHER":
            statement["category_specification_other"] = _cut(action.case.category.name, 500)
    statement["territorial_scope"] = list(settings.DSA_TERRITORIAL_SCOPE)
    language = (first_report.language if first_report else "")[:2].upper()
    if re.fullmatch(r"[A-Z]{2}", language):
        statement["content_language"] = language

    # when
    created = target.platform_created_at or target.first_seen_at
    statement["content_date"] = _day(max(created, timezone.make_aware(datetime(2000, 1, 1))))
    statement["application_date"] = _day(action.applied_at)
    for field, end_field in END_DATE_FIELD.items():
        if statement.get(field) and action.ends_at:
            statement[end_field] = _day(action.ends_at)

    statement["decision_facts"] = _cut(facts, 5000)

    # how it came to us and how it was decided
    source = first_report.source if first_report else Source.AUTOMATED
    source_type = SOURCE_TYPE_BY_SOURCE.get(source, "SOURCE_TYPE_OTHER_NOTIFICATION")
    statement["source_type"] = source_type
    if source_type == "SOURCE_TRUSTED_FLAGGER" and first_report.trusted_flagger_id:
        # an organisation, not a person: the flagger's name is public (Art. 22(5))
        statement["source_identity"] = _cut(first_report.trusted_flagger.name, 500)
    statement["automated_detection"] = "Yes" if action.automated_detection else "No"
    statement["automated_decision"] = action.automated_decision
    statement["puid"] = puid_for(action.pk)
    return statement


# ------------------------------------------------------------------------------------------ check

DECISION_FIELDS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
MAX_LENGTHS = {
    "decision_visibility_other": 500, "decision_monetary_other": 500, "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500, "illegal_content_explanation": 2000, "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000, "content_type_other": 500, "category_specification_other": 500,
    "decision_facts": 5000, "source_identity": 500, "puid": 500,
}
ENUMS = {
    "decision_monetary": DecisionMonetary.values,
    "decision_provision": DecisionProvision.values,
    "decision_account": DecisionAccount.values,
    "account_type": ACCOUNT_TYPES,
    "decision_ground": DecisionGround.values,
    "incompatible_content_illegal": YES_NO,
    "category": DsaCategory.values,
    "source_type": SOURCE_TYPES,
    "automated_detection": YES_NO,
    "automated_decision": AutomatedDecision.values,
}
LIST_ENUMS = {
    "decision_visibility": DecisionVisibility.values,
    "content_type": CONTENT_TYPES,
    "category_addition": DsaCategory.values,
    "category_specification": DSA_KEYWORDS,
    "territorial_scope": EEA_COUNTRIES,
}
REQUIRED = ("decision_ground", "content_type", "category", "territorial_scope", "content_date", "application_date",
            "decision_facts", "source_type", "automated_detection", "automated_decision", "puid")


def statement_errors(statement: dict) -> dict[str, list[str]]:
    """Every way `statement` breaks the Transparency Database's submission rules ({} when none)."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    for field in REQUIRED:
        if statement.get(field) in (None, "", []):
            add(field, "This field is required.")
    if not any(statement.get(f) for f in DECISION_FIELDS):
        add("decision_visibility", "At least one of decision_visibility, decision_monetary, decision_provision "
                                   "or decision_account is required.")
    for field, allowed in ENUMS.items():
        value = statement.get(field)
        if value not in (None, "") and value not in allowed:
            add(field, f"{value!r} is not an accepted value.")
    for field, allowed in LIST_ENUMS.items():
        value = statement.get(field)
        if value is None:
            continue
        if not isinstance(value, list):
            add(field, "Must be an array.")
            continue
        for item in value:
            if item not in allowed:
                add(field, f"{item!r} is not an accepted value.")
    for field, limit in MAX_LENGTHS.items():
        value = statement.get(field)
        if isinstance(value, str) and len(value) > limit:
            add(field, f"At most {limit} characters.")

    # conditional fields
    ground = statement.get("decision_ground")
    illegal = ("illegal_content_legal_ground", "illegal_content_explanation")
    incompatible = ("incompatible_content_ground", "incompatible_content_explanation")
    for group, wanted in ((illegal, DecisionGround.ILLEGAL_CONTENT), (incompatible, DecisionGround.INCOMPATIBLE_CONTENT)):
        for field in group:
            if ground == wanted and not statement.get(field):
                add(field, f"Required when decision_ground is {wanted}.")
            if ground != wanted and field in statement:
                add(field, f"Only accepted when decision_ground is {wanted}.")
    if "incompatible_content_illegal" in statement and ground != DecisionGround.INCOMPATIBLE_CONTENT:
        add("incompatible_content_illegal", "Only accepted for incompatible content.")
    visibility_other = DecisionVisibility.OTHER in (statement.get("decision_visibility") or [])
    _companion(statement, "decision_visibility_other", visibility_other, add)
    _companion(statement, "decision_monetary_other", statement.get("decision_monetary") == DecisionMonetary.OTHER, add)
    _companion(statement, "content_type_other", "CONTENT_TYPE_OTHER" in (statement.get("content_type") or []), add)
    if "category_specification_other" in statement and "KEYWORD_OTHER" not in (statement.get("category_specification") or []):
        add("category_specification_other", "Only accepted with KEYWORD_OTHER.")
    if "source_identity" in statement and statement.get("source_type") == "SOURCE_VOLUNTARY":
        add("source_identity", "Not accepted for SOURCE_VOLUNTARY.")

    # dates
    dates = {}
    for field in ("content_date", "application_date", *END_DATE_FIELD.values()):
        value = statement.get(field)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not DATE_RE.match(value):
            add(field, "Must be a date as YYYY-MM-DD.")
            continue
        try:
            dates[field] = date.fromisoformat(value)
        except ValueError:
            add(field, "Must be a real calendar date.")
    if "content_date" in dates and not date(2000, 1, 1) <= dates["content_date"] <= date(2038, 1, 1):
        add("content_date", "Must be between 2000-01-01 and 2038-01-01.")
    if "application_date" in dates and not date(2020, 1, 1) <= dates["application_date"] <= date(2038, 1, 1):
        add("application_date", "Must be between 2020-01-01 and 2038-01-01.")
    for decision, end_field in END_DATE_FIELD.items():
        if end_field in dates:
            if not statement.get(decision):
                add(end_field, f"Only accepted with {decision}.")
            if "application_date" in dates and dates[end_field] < dates["application_date"]:
                add(end_field, "Must be on or after application_date.")
            if dates[end_field] > date(2038, 1, 1):
                add(end_field, "Must be on or before 2038-01-01.")

    puid = statement.get("puid")
    if isinstance(puid, str) and puid and not PUID_RE.match(puid):
        add("puid", "Only letters, digits, hyphens and underscores.")
    return errors


def _companion(statement: dict, field: str, needed: bool, add) -> None:
    if needed and not statement.get(field):
        add(field, "Required with the OTHER value it describes.")
    if not needed and field in statement:
        add(field, "Only accepted with the OTHER value it describes.")
