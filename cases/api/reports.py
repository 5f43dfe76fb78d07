"""Report intake over the API: `POST /api/v1/reports/` with one report object or a list of up to 1,000.

The serializers below define the accepted fields, their types, limits and error messages, and the
OpenAPI schema. A bulk request runs them over every item, so they are run by `validate` — a lean
walk over one bound serializer instance calling each field's own `run_validation` — instead of
instantiating a DRF serializer per item, which costs about ten times as much (its fields are
deep-copied for every instance). The messages and error shape are DRF's.
"""

import math
import re

from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
)
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

from tsconsole.api_fields import LineField, TextField
from tsconsole.api_parsers import JSONParser
from tsconsole.api_renderers import JSONRenderer
from tsconsole.api_schema import ErrorSerializer
from tsconsole.errors import InvalidInput
from tsconsole.roles import Can

from ..models import Signal, Source, Subject
from ..services import intake
from ..services.intake import MAX_BATCH, Outcome, ReportIn, SubjectIn

LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
# A full list of 1,000 reports with long texts runs to megabytes: this endpoint takes up to 32 MB,
# above Django's general DATA_UPLOAD_MAX_MEMORY_SIZE, and says so with a 413 beyond it.
MAX_BODY_BYTES = 32 * 1024 * 1024


class IntakeJSONParser(JSONParser):
    """The API's strict JSON parser with this endpoint's own, larger size limit."""

    max_bytes = MAX_BODY_BYTES
    too_large_hint = "send fewer reports per request"


class StrictFloatField(serializers.FloatField):
    """A JSON number: strings and booleans are refused rather than coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class SignalsSerializer(serializers.Serializer):
    """Linking signals of an account. Send SHA-256 hex digests where you can; raw values are hashed
    (HMAC-SHA256) on arrival and never stored."""

    email_hash = LineField(max_length=320, required=False, allow_blank=True)
    device_ids = serializers.ListField(child=LineField(max_length=500), max_length=50, required=False)
    ips = serializers.ListField(child=LineField(max_length=100), max_length=50, required=False)
    payment_fingerprints = serializers.ListField(child=LineField(max_length=500), max_length=20,
                                                 required=False)


class AccountSerializer(serializers.Serializer):
    """An account on the platform, keyed by its external id."""

    external_id = LineField(max_length=200)
    handle = LineField(max_length=200, required=False, allow_blank=True)
    follower_count = StrictIntegerField(min_value=0, max_value=10**12, required=False, allow_null=True)
    verified = StrictBooleanField(required=False, allow_null=True)
    account_type = serializers.ChoiceField(choices=Subject.AccountType.choices, required=False, allow_blank=True)
    created_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="When the account was created on the platform.")
    signals = SignalsSerializer(required=False)


ACCOUNT_ONLY = ("handle", "follower_count", "verified", "account_type", "created_at", "signals")
CONTENT_ONLY = ("content_type", "text", "url", "author")


class SubjectSerializer(AccountSerializer):
    """What is reported: an account (`kind` "account", account fields) or a content item (`kind`
    "content", content fields and its author account)."""

    kind = serializers.ChoiceField(choices=Subject.Kind.choices)
    content_type = serializers.ChoiceField(choices=Subject.ContentType.choices, required=False, allow_blank=True)
    text = TextField(max_length=20000, required=False, allow_blank=True, trim_whitespace=False)
    url = serializers.URLField(max_length=1000, required=False, allow_blank=True)
    author = AccountSerializer(required=False, allow_null=True)

    def validate(self, attrs):
        wrong = ACCOUNT_ONLY if attrs.get("kind") == Subject.Kind.CONTENT else CONTENT_ONLY
        errors = {name: [f"Only {'accounts' if name in ACCOUNT_ONLY else 'content items'} have this field."]
                  for name in wrong if attrs.get(name) not in (None, "", {}, [])}
        if errors:
            raise ValidationError(errors)
        return attrs


class ReporterSerializer(serializers.Serializer):
    """Who sent the notice (DSA Art. 16: the notifier's name and email, unless the notice concerns CSAM)."""

    external_id = LineField(max_length=200, required=False, allow_blank=True)
    name = LineField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class ClassifierSerializer(serializers.Serializer):
    label = LineField(max_length=120, required=False, allow_blank=True)
    score = StrictFloatField(min_value=0, max_value=1, required=False, allow_null=True)


class ReportSerializer(serializers.Serializer):
    """One notice about a subject. (`source`, `external_id`) is the idempotency key."""

    source = serializers.ChoiceField(choices=Source.choices)
    external_id = LineField(max_length=200, help_text="Your id of this report, unique per source.")
    category = LineField(max_length=80, help_text="A category slug from GET /api/v1/categories/.")
    subject = SubjectSerializer()
    reporter = ReporterSerializer(required=False, allow_null=True)
    description = TextField(max_length=10000, required=False, allow_blank=True, trim_whitespace=False)
    classifier = ClassifierSerializer(required=False, allow_null=True)
    received_at = serializers.DateTimeField(required=False, allow_null=True,
                                            help_text="When the platform received the notice (default: now).")
    language = serializers.RegexField(LANGUAGE_PATTERN, max_length=16, required=False, allow_blank=True,
                                      help_text="BCP 47 tag, e.g. en or pt-BR.")
    territory = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True,
                                       help_text="ISO 3166-1 alpha-2 country code.")
    explanation = TextField(max_length=10000, required=False, allow_blank=True,
                                        help_text="Why the notifier considers the content illegal (DSA Art. 16).")
    exact_location = LineField(max_length=1000, required=False, allow_blank=True,
                                           help_text="Exact electronic location, e.g. the URL (DSA Art. 16).")
    good_faith_statement = StrictBooleanField(required=False, allow_null=True,
                                              help_text="The notifier confirmed good faith (DSA Art. 16).")


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    queue = serializers.CharField(help_text="Queue slug.")
    priority = serializers.IntegerField(help_text="0 (P0, most urgent) to 3.")


class ReportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The report's id in the console.")
    external_id = serializers.CharField()
    case = CaseRefSerializer(help_text="The case the report belongs to, as it is now.")
    created = serializers.BooleanField(help_text="false: this report was stored before and nothing changed.")


class BulkItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request list.")
    status = serializers.IntegerField(help_text="201 created, 200 stored before (nothing changed), 400 invalid.")
    result = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    id = serializers.IntegerField(required=False)
    external_id = serializers.CharField(required=False)
    case = CaseRefSerializer(required=False)
    created = serializers.BooleanField(required=False)
    errors = serializers.DictField(required=False, help_text="Field errors of an invalid item.")


class BulkResultSerializer(serializers.Serializer):
    results = BulkItemSerializer(many=True, help_text="One result per item, in request order.")
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()


# --------------------------------------------------------------------------- validation

_SURROGATES = re.compile("[\ud800-\udfff]")


def _no_surrogates(value):
    """DRF's ProhibitSurrogateCharactersValidator, with its message, as one regex search instead of a
    Python loop over every character (which dominated validating a list of long texts)."""
    match = _SURROGATES.search(str(value))
    if match:
        raise ValidationError(f"Surrogate characters are not allowed: U+{ord(match.group()):X}.",
                              code="surrogate_characters_not_allowed")


def _bound(serializer: serializers.Serializer) -> serializers.Serializer:
    for fld in serializer.fields.values():
        if isinstance(fld, serializers.Serializer):
            _bound(fld)
            continue
        for target in (fld, getattr(fld, "child", None)):
            if target is not None:
                target.validators = [_no_surrogates if isinstance(v, ProhibitSurrogateCharactersValidator) else v
                                     for v in target.validators]
    return serializer


_REPORT = _bound(ReportSerializer())


_PLANS: dict[int, list] = {}


def _plan(serializer: serializers.Serializer) -> list[tuple[str, serializers.Field, bool]]:
    """(name, field, is nested serializer) of a bound serializer, read once."""
    plan = _PLANS.get(id(serializer))
    if plan is None:
        plan = _PLANS[id(serializer)] = [(name, fld, isinstance(fld, serializers.Serializer))
                                         for name, fld in serializer.fields.items()]
    return plan


def _walk(serializer: serializers.Serializer, data) -> tuple[dict, dict]:
    """Validate `data` with a bound serializer's fields: (validated data, field errors)."""
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        return {}, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
    out, errors = {}, {}
    for name, fld, nested in _plan(serializer):
        value = data.get(name, empty)
        if nested:
            if value is empty:
                if fld.required:
                    errors[name] = ["This field is required."]
                continue
            if value is None:
                if fld.allow_null:
                    out[name] = None
                else:
                    errors[name] = ["This field may not be null."]
                continue
            sub, sub_errors = _walk(fld, value)
            if sub_errors:
                errors[name] = sub_errors
            else:
                out[name] = sub
            continue
        if value is empty and not fld.required:
            continue  # not sent, and no field here has a default
        try:
            out[name] = fld.run_validation(value)
        except SkipField:
            pass
        except ValidationError as exc:
            errors[name] = exc.detail
    if not errors and type(serializer).validate is not serializers.Serializer.validate:
        try:
            out = serializer.validate(out)
        except ValidationError as exc:
            errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    return out, errors


# ------------------------------------------------------------------ the fast path for valid items
#
# Nearly every item an integration sends is valid, and DRF's per-field machinery (empty-value
# handling, coercion, a loop over validator objects raising and catching) costs far more than the
# checks themselves. `_fast_walk` runs the same checks, compiled once from the bound fields
# themselves (their validators' limits, patterns and choices), and answers only for values it can
# vouch for: the first value it is not sure of (a wrong type, a blank, a pattern that does not
# match, a validator it does not know) sends the whole item to `_walk`, so errors, their wording
# and every edge case remain DRF's. The serializers stay the one definition of the input, and of
# the OpenAPI schema.


class _Unsure(Exception):
    """The fast path cannot vouch for a value: DRF's own fields decide."""


def _predicate(validator):
    """A validator as a test of the value (True: valid), or None for one the fast path does not know."""
    kind = type(validator)
    if kind is MaxLengthValidator:
        return lambda value, limit=validator.limit_value: len(value) <= limit
    if kind is MinLengthValidator:
        return lambda value, limit=validator.limit_value: len(value) >= limit
    if kind is MaxValueValidator:
        return lambda value, limit=validator.limit_value: value <= limit
    if kind is MinValueValidator:
        return lambda value, limit=validator.limit_value: value >= limit
    if kind is ProhibitNullCharactersValidator:
        return lambda value: "\x00" not in value
    if kind is ProhibitSurrogateCharactersValidator or validator is _no_surrogates:
        return lambda value: _SURROGATES.search(value) is None
    if kind is RegexValidator:
        return lambda value, search=validator.regex.search, inverse=validator.inverse_match: \
            (search(value) is None) is inverse
    return None


def _predicates(fld) -> list | None:
    tests = [_predicate(v) for v in fld.validators]
    return None if any(t is None for t in tests) else tests


def _null(fld):
    if fld.allow_null:
        return None
    raise _Unsure


def _fast_field(fld):
    """value → validated value, raising _Unsure where DRF's field must decide."""
    tests = _predicates(fld)
    kind = type(fld)
    if tests is None or getattr(fld, "source", None) == "*":
        return None
    if isinstance(fld, serializers.CharField) and type(fld).run_validation is serializers.CharField.run_validation \
            and type(fld).to_internal_value is serializers.CharField.to_internal_value:
        trim, allow_blank = fld.trim_whitespace, fld.allow_blank

        def char(value):
            if type(value) is not str:
                if value is None:
                    return _null(fld)
                raise _Unsure
            if trim:
                value = value.strip()
            if not value:
                if allow_blank:
                    return ""
                raise _Unsure
            for test in tests:
                if not test(value):
                    raise _Unsure
            return value
        return char
    if kind is serializers.ChoiceField:
        choices, allow_blank = fld.choice_strings_to_values, fld.allow_blank

        def choice(value):
            if type(value) is str:
                if value == "" and allow_blank:
                    return ""
                if value in choices:
                    return choices[value]
            elif value is None:
                return _null(fld)
            raise _Unsure
        return choice
    if kind is StrictIntegerField:
        def integer(value):
            if type(value) is not int:
                if value is None:
                    return _null(fld)
                raise _Unsure
            for test in tests:
                if not test(value):
                    raise _Unsure
            return value
        return integer
    if kind is StrictFloatField:
        def number(value):
            if type(value) is float:
                pass
            elif type(value) is int and -(2**53) <= value <= 2**53:
                value = float(value)
            elif value is None:
                return _null(fld)
            else:
                raise _Unsure
            if not math.isfinite(value):
                raise _Unsure
            for test in tests:
                if not test(value):
                    raise _Unsure
            return value
        return number
    if kind is StrictBooleanField and not tests:
        def boolean(value):
            if type(value) is bool:
                return value
            if value is None:
                return _null(fld)
            raise _Unsure
        return boolean
    if kind is serializers.ListField and not fld.min_length:
        child = _fast_field(fld.child)
        if child is None:
            return None
        allow_empty = fld.allow_empty

        def many(value):
            if type(value) is not list:
                if value is None:
                    return _null(fld)
                raise _Unsure
            if not value and not allow_empty:
                raise _Unsure
            for test in tests:
                if not test(value):
                    raise _Unsure
            return [child(item) for item in value]
        return many
    return None


def _drf_field(fld):
    """A field the fast path does not model (URLs, emails, datetimes): DRF's own run_validation."""
    def run(value):
        try:
            return fld.run_validation(value)
        except ValidationError:
            raise _Unsure
    return run


_FAST_PLANS: dict[int, list] = {}


def _fast_plan(serializer: serializers.Serializer) -> list:
    plan = _FAST_PLANS.get(id(serializer))
    if plan is None:
        plan = []
        for name, fld, nested in _plan(serializer):
            check = None if nested else (_fast_field(fld) or _drf_field(fld))
            plan.append((name, fld, nested, check))
        _FAST_PLANS[id(serializer)] = plan
    return plan


def _fast_walk(serializer: serializers.Serializer, data) -> dict:
    """`_walk` for data it can vouch for: the validated data, or _Unsure."""
    if type(data) is not dict:
        raise _Unsure
    out = {}
    for name, fld, nested, check in _fast_plan(serializer):
        value = data.get(name, empty)
        if value is empty:
            if fld.required:
                raise _Unsure
            continue
        if nested:
            if value is None:
                if not fld.allow_null:
                    raise _Unsure
                out[name] = None
            else:
                out[name] = _fast_walk(fld, value)
            continue
        out[name] = check(value)
    if type(serializer).validate is not serializers.Serializer.validate:
        try:
            out = serializer.validate(out)
        except ValidationError:
            raise _Unsure
    return out


def _plain(errors):
    """ErrorDetail strings and nested dicts/lists as plain JSON values."""
    if isinstance(errors, dict):
        return {str(k): _plain(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [_plain(v) for v in errors]
    return str(errors)


def _subject(data: dict, kind: str) -> SubjectIn:
    signals = []
    raw = data.get("signals") or {}
    if raw.get("email_hash"):
        signals.append((Signal.Kind.EMAIL_HASH, raw["email_hash"]))
    for name, signal_kind in (("device_ids", Signal.Kind.DEVICE_ID), ("ips", Signal.Kind.IP),
                              ("payment_fingerprints", Signal.Kind.PAYMENT_FINGERPRINT)):
        signals.extend((signal_kind, value) for value in raw.get(name) or [] if value)
    author = data.get("author")
    return SubjectIn(
        kind=kind, external_id=data["external_id"], handle=data.get("handle", ""),
        follower_count=data.get("follower_count"), verified=data.get("verified"),
        account_type=data.get("account_type", ""), created_at=data.get("created_at"), signals=signals,
        content_type=data.get("content_type", ""), text=data.get("text", ""), url=data.get("url", ""),
        author=_subject(author, Subject.Kind.ACCOUNT) if author else None,
    )


def validate(data) -> tuple[ReportIn | None, dict]:
    """One request item → (ReportIn, {}) or (None, field errors)."""
    try:
        out = _fast_walk(_REPORT, data)
    except _Unsure:
        out, errors = _walk(_REPORT, data)
        if errors:
            return None, _plain(errors)
    reporter = out.get("reporter") or {}
    classifier = out.get("classifier") or {}
    return ReportIn(
        source=out["source"], external_id=out["external_id"], category=out["category"],
        subject=_subject(out["subject"], out["subject"]["kind"]),
        reporter_ref=reporter.get("external_id", ""), notifier_name=reporter.get("name", ""),
        notifier_email=reporter.get("email", ""), description=out.get("description", ""),
        classifier_label=classifier.get("label", ""), classifier_score=classifier.get("score"),
        received_at=out.get("received_at"), language=out.get("language", ""),
        territory=out.get("territory", "").upper(), explanation=out.get("explanation", ""),
        exact_location=out.get("exact_location", ""), good_faith_statement=out.get("good_faith_statement"),
    ), {}


# --------------------------------------------------------------------------- the endpoint

EXAMPLE = {
    "source": "user_report", "external_id": "r-81723", "category": "phishing",
    "subject": {"kind": "content", "external_id": "post-991", "content_type": "post",
                "text": "Your account is locked, log in here", "url": "https://platform.example/p/991",
                "author": {"external_id": "acct-17", "handle": "bank_support_", "follower_count": 230,
                           "signals": {"email_hash": "4f1c…(sha256 hex)", "ips": ["203.0.113.9"]}}},
    "reporter": {"external_id": "user-5521"},
    "description": "Pretends to be my bank",
    "classifier": {"label": "phishing", "score": 0.94},
    "language": "en", "territory": "IE",
}


class ReportIntake(APIView):
    """Send reports: one object → 201 (or 200 when already stored); a list → 207 with a result per item."""

    permission_classes = [Can("report.create")]
    parser_classes = [IntakeJSONParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="reports_create",
        summary="Send one report, or a list of up to 1,000",
        description=(
            "One report object: `201` with the report and its case when stored, `200` with the same body and "
            "`\"created\": false` when a report with this `source` and `external_id` is stored already (nothing "
            "changes), `400` naming each bad field.\n\n"
            f"A JSON list of 1 to {MAX_BATCH} report objects: `207` with one result per item in request order — "
            "`created` (201), `duplicate` (200, stored before or repeated earlier in the list) or `error` (400, with "
            "its field errors). Valid items are committed even when others are invalid; resending the list is "
            "safe and creates nothing twice. An empty list, a longer list or items that are not objects get "
            "`400` and nothing is stored.\n\n"
            "A report about a subject that has an open case joins that case; otherwise a new case opens in the "
            "queue the routing rules choose, with a priority whose reasons the case shows."
        ),
        request=PolymorphicProxySerializer(
            component_name="ReportOrList", serializers=[ReportSerializer, ReportSerializer(many=True)],
            resource_type_field_name=None, many=False,
        ),
        responses={
            201: ReportResultSerializer, 200: ReportResultSerializer, 207: BulkResultSerializer,
            400: ErrorSerializer, 403: OpenApiResponse(description="Your role may not send reports."),
            413: OpenApiResponse(ErrorSerializer, description="The body is over 32 MB.")},
        examples=[OpenApiExample("A user report about a post", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        data = request.data
        if isinstance(data, list):
            return self._bulk(request, data)
        if not isinstance(data, dict):
            raise InvalidInput("Send a report object or a list of report objects.")
        report, errors = validate(data)
        if errors:
            raise InvalidInput("The report has errors; nothing was stored.", field_errors=errors)
        outcome = intake.report_ingest(report, actor=request.user)
        code = status.HTTP_201_CREATED if outcome.status == Outcome.CREATED else status.HTTP_200_OK
        return Response(outcome.body(), status=code)

    def _bulk(self, request, data: list):
        if not data:
            raise InvalidInput(f"The list is empty: send 1 to {MAX_BATCH} reports.")
        if len(data) > MAX_BATCH:
            raise InvalidInput(f"{len(data)} reports in one request: send at most {MAX_BATCH}; nothing was stored.",
                               field_errors={"non_field_errors": [f"At most {MAX_BATCH} items."]})
        not_objects = {str(i): [f"Expected a report object, got {type(v).__name__ if v is not None else 'null'}."]
                       for i, v in enumerate(data) if not isinstance(v, dict)}
        if not_objects:
            raise InvalidInput("Every item of the list must be a report object; nothing was stored.",
                               field_errors=not_objects)
        parsed = [validate(item) for item in data]
        valid = [report for report, _ in parsed if report is not None]
        outcomes = iter(intake.reports_ingest(valid, actor=request.user) if valid else [])
        results, counts = [], {Outcome.CREATED: 0, Outcome.DUPLICATE: 0, Outcome.ERROR: 0}
        for index, (report, errors) in enumerate(parsed):
            outcome = next(outcomes) if report is not None else Outcome(Outcome.ERROR, errors=errors)
            counts[outcome.status] += 1
            code = {Outcome.CREATED: 201, Outcome.DUPLICATE: 200, Outcome.ERROR: 400}[outcome.status]
            results.append({"index": index, "status": code, "result": outcome.status, **outcome.body()})
        return Response({"results": results, "created": counts[Outcome.CREATED],
                         "duplicates": counts[Outcome.DUPLICATE], "errors": counts[Outcome.ERROR]},
                        status=status.HTTP_207_MULTI_STATUS)
