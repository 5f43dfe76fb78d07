"""QA over the API: samples (blinded until reviewed), reviews, sampling rules and calibration.

Errors take the console's one shape, `{"detail": ..., "errors": {field: [...]}}`: 400 for bad
input, 403 for someone who may not (their own decision, someone else's sample), 404 for what
they may not see, 409 for a state that does not allow it (reviewed already, session closed).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from enforcement.models import ActionType
from tsconsole.errors import InvalidInput, NotFound
from tsconsole.roles import Can

from . import sampling, selectors, services
from .models import CalibrationSession, Outcome, RuleKind, SampleStatus

# --------------------------------------------------------------------------- shapes


class ActionTypeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[c for c in ActionType.choices if c[0] != "no_violation"])


class DecisionInSerializer(serializers.Serializer):
    """`{"policy": slug, "actions": [{"type": ...}]}` or `{"no_violation": true}`."""

    policy = serializers.SlugField(required=False, allow_null=True, allow_blank=True)
    actions = ActionTypeSerializer(many=True, required=False)
    no_violation = serializers.BooleanField(required=False)


class ReviewInSerializer(serializers.Serializer):
    decision = DecisionInSerializer()
    scores = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5),
                                   help_text="Every criterion of the rubric (see `rubric` on the sample) → 1..5.")
    feedback = serializers.CharField(required=False, allow_blank=True, max_length=services.TEXT_MAX, default="")


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    weight = serializers.IntegerField()
    critical = serializers.BooleanField()


class ReportOutSerializer(serializers.Serializer):
    source = serializers.CharField()
    category = serializers.CharField(source="category.name")
    received_at = serializers.DateTimeField()
    description = serializers.CharField()
    classifier_label = serializers.CharField()
    classifier_score = serializers.FloatField(allow_null=True)


class SubjectOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    external_id = serializers.CharField()
    handle = serializers.CharField()
    follower_count = serializers.IntegerField(allow_null=True)
    verified = serializers.BooleanField()
    text = serializers.CharField()
    author = serializers.CharField(source="author.external_id", allow_null=True, default=None)


class NoteOutSerializer(serializers.Serializer):
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class EvidenceOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    sensitive = serializers.BooleanField()
    description = serializers.CharField()
    text_extract = serializers.CharField()
    captured_at = serializers.DateTimeField()


class HistoryOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    category = serializers.CharField()
    outcome = serializers.CharField()


class LinkedOutSerializer(serializers.Serializer):
    account = serializers.CharField(source="account.external_id")
    shared_kinds = serializers.ListField(child=serializers.CharField())
    cases = serializers.IntegerField()
    actioned = serializers.IntegerField()


class BlindCaseSerializer(serializers.Serializer):
    """The case as the analyst saw it when deciding: no decision, no names."""

    case_id = serializers.IntegerField()
    category = serializers.CharField(source="category.name")
    queue = serializers.CharField(source="queue.slug")
    priority = serializers.CharField()
    opened_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField()
    subject = SubjectOutSerializer()
    reports = ReportOutSerializer(many=True)
    report_total = serializers.IntegerField()
    notes = NoteOutSerializer(many=True)
    evidence = EvidenceOutSerializer(many=True)
    history = HistoryOutSerializer(many=True)
    linked = LinkedOutSerializer(many=True)


class OriginalSerializer(serializers.Serializer):
    policy = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    rationale = serializers.CharField()
    statement = serializers.CharField()
    analyst = serializers.CharField()
    approver = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField()


class AuditOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.CharField()
    policy = serializers.CharField(allow_null=True)
    actions = serializers.ListField(child=serializers.CharField())
    scores = serializers.DictField(child=serializers.IntegerField())
    score = serializers.FloatField()
    critical_miss = serializers.BooleanField()
    policy_match = serializers.BooleanField()
    actions_match = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    final_outcome = serializers.ChoiceField(choices=Outcome.choices)
    feedback = serializers.CharField()
    created_at = serializers.DateTimeField()


class SampleOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    rule = serializers.CharField(allow_null=True, help_text="The rule that drew it; null for a reviewer until reviewed.")
    status = serializers.ChoiceField(choices=SampleStatus.choices)
    reviewer = serializers.CharField(allow_null=True)
    due_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class SampleDetailSerializer(SampleOutSerializer):
    blinded_case = BlindCaseSerializer()
    rubric = CriterionSerializer(many=True)
    original = OriginalSerializer(allow_null=True, help_text="Null until the sample is reviewed.")
    audit = AuditOutSerializer(allow_null=True, help_text="Null until the sample is reviewed.")


class ReviewOutSerializer(serializers.Serializer):
    audit = AuditOutSerializer()
    original = OriginalSerializer()
    agreement = serializers.DictField(help_text="policy_match, actions_match, outcome.")


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise InvalidInput("Some fields are not valid.", field_errors=serializer.errors)
    return serializer.validated_data


def _sample_row(sample) -> dict:
    """A sample's list fields, as the selector blinded them (a `SampleRow` of sample_list, or the
    sample of sample_for): `rule_name` is None while the reader may not see the rule."""
    return {"id": sample.pk, "case": sample.case_id, "rule": sample.rule_name, "status": sample.status,
            "reviewer": sample.reviewer_name, "due_at": sample.due_at, "created_at": sample.created_at}


def _original(sample) -> dict:
    o = services.original_decision(sample)
    return {"policy": o["policy"].slug, "actions": list(o["types"]), "rationale": o["rationale"], "statement": o["statement"],
            "analyst": o["analyst"].get_username(), "approver": o["approver"].get_username() if o["approver"] else None,
            "decided_at": o["decided_at"]}


def _audit(audit) -> dict:
    return {"id": audit.pk, "reviewer": audit.reviewer.get_username(), "policy": audit.policy.slug if audit.policy else None,
            "actions": audit.action_types, "scores": audit.scores, "score": audit.score, "critical_miss": audit.critical_miss,
            "policy_match": audit.policy_match, "actions_match": audit.actions_match, "outcome": audit.outcome,
            "final_outcome": audit.final_outcome, "feedback": audit.feedback, "created_at": audit.created_at}


def _sample_or_404(request, pk):
    sample = selectors.sample_for(request.user, pk)
    if sample is None:
        raise NotFound(f"Sample {pk} does not exist or is not yours to review.")
    return sample


# --------------------------------------------------------------------------- samples


class SampleList(APIView):
    """Samples: a reviewer's own (the rule only once reviewed, never the analyst); every sample for
    leads. Newest first, keyset-paginated by `before`."""

    permission_classes = [Can("qa.review")]

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=SampleStatus.values), OpenApiParameter("before", int),
                    OpenApiParameter("analyst", str, description="Leads only: a reviewer's list ignores it."), OpenApiParameter("policy", str), OpenApiParameter("queue", str)],
        responses={200: SampleOutSerializer(many=True)},
    )
    def get(self, request):
        params = request.query_params
        before = params.get("before")
        if before and not before.isdigit():
            raise InvalidInput("before is a sample id.", field_errors={"before": ["A whole number."]})
        if params.get("status") and params["status"] not in SampleStatus.values:
            raise InvalidInput("Unknown status.", field_errors={"status": [f"One of {', '.join(SampleStatus.values)}."]})
        page = selectors.sample_list(
            request.user, status=params.get("status", ""), analyst=params.get("analyst", ""), policy=params.get("policy", ""),
            queue=params.get("queue", ""), before_id=int(before) if before else None)
        response = Response([_sample_row(s) for s in page["samples"]])
        if page["next_before"]:
            response["Link"] = f'<?before={page["next_before"]}>; rel="next"'
        return response


class SampleDetail(APIView):
    """One sample: the blinded case and the rubric; the original decision and the audit only once reviewed."""

    permission_classes = [Can("qa.review")]

    @extend_schema(responses={200: SampleDetailSerializer})
    def get(self, request, pk):
        sample = _sample_or_404(request, pk)
        reviewed = sample.status == SampleStatus.REVIEWED
        form = selectors.review_form_data(sample)
        body = {
            **_sample_row(sample),
            "blinded_case": BlindCaseSerializer(selectors.blinded_case(sample)).data,
            "rubric": CriterionSerializer(form["criteria"], many=True).data,
            "original": _original(sample) if reviewed else None,
            "audit": _audit(sample.audit) if reviewed else None,
        }
        return Response(body)


class SampleReview(APIView):
    """Record your blind decision and rubric scores; the answer reveals the original with the agreement."""

    permission_classes = [Can("qa.review")]

    @extend_schema(request=ReviewInSerializer, responses={201: ReviewOutSerializer})
    def post(self, request, pk):
        _sample_or_404(request, pk)
        if not isinstance(request.data, dict):
            raise InvalidInput("The body is a JSON object.")
        _valid(ReviewInSerializer, request.data)
        audit = services.sample_review(sample=pk, decision=request.data.get("decision"), scores=request.data.get("scores"),
                                       feedback=request.data.get("feedback", ""), actor=request.user)
        sample = audit.sample
        return Response({
            "audit": _audit(audit), "original": _original(sample),
            "agreement": {"policy_match": audit.policy_match, "actions_match": audit.actions_match, "outcome": audit.outcome},
        }, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- sampling rules


class RuleInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    queue = serializers.SlugField(required=False, allow_blank=True)
    policy = serializers.SlugField(required=False, allow_blank=True)
    action_type = serializers.ChoiceField(choices=ActionType.choices, required=False, allow_blank=True)
    analyst = serializers.CharField(required=False, allow_blank=True)
    rate = serializers.FloatField(required=False, min_value=0, max_value=1)
    first_n = serializers.IntegerField(required=False, min_value=1)
    floor_k = serializers.IntegerField(required=False, min_value=1)
    due_days = serializers.IntegerField(required=False, min_value=1, max_value=90)
    is_active = serializers.BooleanField(required=False, default=True)


class RuleOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    version = serializers.IntegerField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    queue = serializers.CharField(allow_null=True)
    policy = serializers.CharField(allow_null=True)
    action_type = serializers.CharField()
    analyst = serializers.CharField(allow_null=True)
    rate = serializers.FloatField(allow_null=True)
    first_n = serializers.IntegerField(allow_null=True)
    floor_k = serializers.IntegerField(allow_null=True)
    due_days = serializers.IntegerField()


def _rule(rule) -> dict:
    v = rule.current
    return {"id": rule.pk, "name": rule.name, "is_active": rule.is_active, "version": rule.version, "kind": v.kind,
            "summary": v.summary, "queue": v.queue.slug if v.queue_id else None, "policy": v.policy.slug if v.policy_id else None,
            "action_type": v.action_type, "analyst": v.analyst.get_username() if v.analyst_id else None, "rate": v.rate,
            "first_n": v.first_n, "floor_k": v.floor_k, "due_days": v.due_days}


class SamplingRules(APIView):
    """Sampling rules with their current version (GET); create one (POST, leads and admins)."""

    permission_classes = [Can("qa.manage")]

    @extend_schema(responses={200: RuleOutSerializer(many=True)})
    def get(self, request):
        return Response([_rule(r) for r in sampling.rules_with_versions() if r.current])

    @extend_schema(request=RuleInSerializer, responses={201: RuleOutSerializer})
    def post(self, request):
        data = _valid(RuleInSerializer, request.data)
        rule = services.sampling_rule_save(actor=request.user, data=data)
        created = next(r for r in sampling.rules_with_versions() if r.pk == rule.pk)
        return Response(_rule(created), status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- calibration


class CalibrationInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    cases = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=services.MAX_CALIBRATION_CASES)
    participants = serializers.ListField(child=serializers.CharField(), min_length=2,
                                         max_length=services.MAX_CALIBRATION_PARTICIPANTS)


class AnswerInSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    decision = DecisionInSerializer()
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=services.TEXT_MAX, default="")


class CalibrationOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    cases = serializers.ListField(child=serializers.DictField())
    participants = serializers.ListField(child=serializers.DictField())
    fleiss_kappa = serializers.FloatField(allow_null=True, help_text="Null until closed (or with too few answers).")
    percent_agreement = serializers.FloatField(allow_null=True)
    kappa_by_policy = serializers.DictField(allow_null=True)


def _calibration(request, session: CalibrationSession) -> dict:
    page = selectors.calibration_page(request.user, session)
    results = session.results or {}
    closed = session.status == CalibrationSession.Status.CLOSED
    cases = results.get("cases") if closed else [
        {"case": i["item"].case_id, "answered": i["answer"] is not None} for i in page["items"]]
    participants = [
        {"username": p["user"].get_username(), "answered": p["answered"],
         **({"agreement": results.get("participants", {}).get(p["user"].get_username(), {}).get("agreement")} if closed else {})}
        for p in page["participants"]
    ]
    return {"id": session.pk, "title": session.title, "status": session.status,
            "created_by": session.created_by.get_username(), "created_at": session.created_at, "closed_at": session.closed_at,
            "cases": cases, "participants": participants, "fleiss_kappa": results.get("fleiss_kappa") if closed else None,
            "percent_agreement": results.get("percent_agreement") if closed else None,
            "kappa_by_policy": results.get("kappa_by_policy") if closed else None}


def _session_or_404(request, pk):
    session = selectors.calibration_for(request.user, pk)
    if session is None:
        raise NotFound(f"Calibration session {pk} does not exist or is not one of yours.")
    return session


class Calibrations(APIView):
    """Build a calibration session from resolved cases and invite participants (leads)."""

    permission_classes = [Can("qa.manage")]

    @extend_schema(request=CalibrationInSerializer, responses={201: CalibrationOutSerializer})
    def post(self, request):
        data = _valid(CalibrationInSerializer, request.data)
        session = services.calibration_create(title=data["title"], cases=data["cases"], participants=data["participants"],
                                              actor=request.user)
        return Response(_calibration(request, session), status=status.HTTP_201_CREATED)


class CalibrationDetail(APIView):
    """A session: progress while open; spread, percent agreement and Fleiss' kappa once closed."""

    permission_classes = [Can("calibration.participate")]

    @extend_schema(responses={200: CalibrationOutSerializer})
    def get(self, request, pk):
        return Response(_calibration(request, _session_or_404(request, pk)))


class CalibrationAnswers(APIView):
    """A participant's answer on one case of the session (final once given)."""

    permission_classes = [Can("calibration.participate")]

    @extend_schema(request=AnswerInSerializer, responses={201: inline_serializer("CalibrationAnswerOut", {
        "case": serializers.IntegerField(), "category": serializers.CharField(),
        "created_at": serializers.DateTimeField()})})
    def post(self, request, pk):
        _session_or_404(request, pk)
        data = _valid(AnswerInSerializer, request.data)
        answer = services.calibration_answer(session=pk, case=data["case"], decision=request.data.get("decision"),
                                             rationale=data["rationale"], actor=request.user)
        return Response({"case": data["case"], "category": answer.category, "created_at": answer.created_at},
                        status=status.HTTP_201_CREATED)


class CalibrationClose(APIView):
    """Close a session and compute its results (leads)."""

    permission_classes = [Can("qa.manage")]

    @extend_schema(request=None, responses={200: CalibrationOutSerializer})
    def post(self, request, pk):
        session = services.calibration_close(session=pk, actor=request.user)
        return Response(_calibration(request, session))


# --------------------------------------------------------------------------- rubrics


class CriterionInSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=120)
    help_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    weight = serializers.IntegerField(min_value=1, max_value=10, default=1)
    critical = serializers.BooleanField(default=False)


class RubricInSerializer(serializers.Serializer):
    policy = serializers.SlugField(required=False, allow_null=True, allow_blank=True,
                                   help_text="Empty: the default rubric for policies without their own.")
    pass_mark = serializers.IntegerField(min_value=0, max_value=100, default=80)
    criteria = CriterionInSerializer(many=True, allow_empty=False)


class RubricOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    policy = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
    pass_mark = serializers.IntegerField()
    criteria = CriterionSerializer(many=True)
    created_at = serializers.DateTimeField()


def _rubric(rubric) -> dict:
    return {"id": rubric.pk, "policy": rubric.policy.slug if rubric.policy_id else None, "version": rubric.version,
            "pass_mark": rubric.pass_mark, "criteria": CriterionSerializer(rubric.criteria.all(), many=True).data,
            "created_at": rubric.created_at}


class Rubrics(APIView):
    """The current rubric of each policy that has one, and the default (GET); save a policy's
    rubric as its next version (POST, leads and admins). Audits keep the version they were scored with."""

    permission_classes = [Can("qa.manage")]

    @extend_schema(responses={200: RubricOutSerializer(many=True)})
    def get(self, request):
        return Response([_rubric(r) for r in selectors.rubrics_current()])

    @extend_schema(request=RubricInSerializer, responses={201: RubricOutSerializer})
    def post(self, request):
        from enforcement.models import Policy

        data = _valid(RubricInSerializer, request.data)
        policy = None
        if data.get("policy"):
            policy = Policy.objects.filter(slug=data["policy"]).first()
            if policy is None:
                raise InvalidInput(f"There is no policy {data['policy']!r}.", field_errors={"policy": ["Unknown policy."]})
        rubric = services.rubric_save(policy=policy, criteria=[dict(c) for c in data["criteria"]], pass_mark=data["pass_mark"],
                                      actor=request.user)
        return Response(_rubric(rubric), status=status.HTTP_201_CREATED)
