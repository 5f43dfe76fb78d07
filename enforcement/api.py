"""Enforcement over the API: decide a case, approve / reject / reverse actions, and the subject
status the platform and support tooling read.

Bad input answers 400 `{"detail": ..., "errors": {field: [...]}}`; a case or action in the wrong
state answers 409; the two-person rule's refusals answer 403.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors.workspace import require_case_visible
from tsconsole.api_fields import TextField
from tsconsole.errors import InvalidInput, NotFound
from tsconsole.roles import Can
from tsconsole.validators import SINGLE_LINE_MESSAGE, has_control_characters

from . import selectors, services
from .models import MAX_DURATION_HOURS, VISIBILITY_FORMS, ActionType, DecisionGround, EnforcementAction

TEXT = services.TEXT_MAX_CHARS


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise InvalidInput("Some fields are not valid.", field_errors=serializer.errors)
    return serializer.validated_data


class ActionInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ActionType.choices)
    duration_hours = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_DURATION_HOURS,
        help_text="For temporary actions (feature_restriction and suspension need one).",
    )
    target = serializers.ChoiceField(
        choices=["subject", "author"], required=False,
        help_text="Default: the content for content actions, the account (or the content's author) for account actions.",
    )
    visibility = serializers.ChoiceField(
        choices=list(VISIBILITY_FORMS), required=False, help_text="Form of restrict_visibility (default demoted).",
    )


class DecideSerializer(serializers.Serializer):
    policy = serializers.SlugField(required=False, allow_blank=True, help_text="Default: the case category's policy.")
    actions = ActionInputSerializer(many=True, allow_empty=False)
    rationale = TextField(max_length=TEXT, help_text="Internal; never shown to the user.")
    statement = TextField(required=False, allow_blank=True, max_length=TEXT)
    macro = serializers.SlugField(required=False, allow_blank=True)
    macro_values = serializers.DictField(child=TextField(allow_blank=True, max_length=2000), required=False)
    departure_reason = TextField(required=False, allow_blank=True, max_length=TEXT)
    ground = serializers.ChoiceField(choices=DecisionGround.choices, required=False)


class TargetSerializer(serializers.Serializer):
    kind = serializers.CharField()
    external_id = serializers.CharField()


class ActionSerializer(serializers.ModelSerializer):
    decision = serializers.CharField(source="decision_ref")
    case = serializers.IntegerField(source="case_id")
    type = serializers.CharField(source="action_type")
    target = TargetSerializer()
    policy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    policy_version = serializers.IntegerField(source="policy_version.version")
    proposer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reversed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_hours = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = EnforcementAction
        fields = [
            "id", "decision", "case", "type", "status", "target", "policy", "policy_version",
            "decision_visibility", "decision_account", "decision_provision", "decision_monetary", "decision_ground",
            "category", "automated_detection", "automated_decision", "rationale", "statement", "ladder_suggestion",
            "departure_reason", "duration_hours", "applied_at", "ends_at", "expired_at", "created_at", "proposer",
            "requires_approval", "reviewer", "reviewed_at", "review_comment", "reversed_by", "reversed_at",
            "reversal_reason",
        ]


class DecisionSerializer(serializers.Serializer):
    case = serializers.DictField()
    decision = serializers.CharField()
    requires_approval = serializers.BooleanField()
    approval_reasons = serializers.ListField(child=serializers.CharField())
    ladder_suggestion = serializers.DictField(allow_null=True)
    actions = ActionSerializer(many=True)


def _actions(ids) -> list:
    return list(
        EnforcementAction.objects.filter(pk__in=ids)
        .select_related("target", "policy", "policy_version", "proposer", "reviewer", "reversed_by").order_by("id")
    )


class CaseDecide(APIView):
    """Decide a case: one or more actions (or no_violation), a rationale, and a statement (text,
    or a macro with values). High-impact subjects and terminations wait for a lead's approval."""

    permission_classes = [Can("case.work")]

    @extend_schema(request=DecideSerializer, responses={201: DecisionSerializer})
    def post(self, request, pk):
        require_case_visible(request.user, pk)
        data = _valid(DecideSerializer, request.data)
        decision = services.case_decide(
            case=pk, actor=request.user, policy=data.get("policy") or None,
            actions=[{k: v for k, v in item.items() if v is not None} for item in data["actions"]],
            rationale=data["rationale"], statement=data.get("statement", ""), macro=data.get("macro") or None,
            macro_values=data.get("macro_values"), departure_reason=data.get("departure_reason", ""),
            ground=data.get("ground", ""),
        )
        body = {
            "case": {"id": decision.case.pk, "status": decision.case.status, "resolution": decision.case.resolution},
            "decision": decision.ref,
            "requires_approval": decision.requires_approval,
            "approval_reasons": decision.approval_reasons,
            "ladder_suggestion": decision.suggestion,
            "actions": ActionSerializer(_actions([a.pk for a in decision.actions]), many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CommentSerializer(serializers.Serializer):
    comment = TextField(required=False, allow_blank=True, max_length=TEXT, default="")


class RequiredCommentSerializer(serializers.Serializer):
    comment = TextField(max_length=TEXT)


class ReasonSerializer(serializers.Serializer):
    reason = TextField(max_length=TEXT)


class ActionApprove(APIView):
    """Approve the pending decision this action belongs to (a lead who did not propose it)."""

    permission_classes = [Can("approval.decide")]

    @extend_schema(request=CommentSerializer, responses=ActionSerializer(many=True))
    def post(self, request, pk):
        data = _valid(CommentSerializer, request.data)
        actions = services.decision_approve(action=pk, actor=request.user, comment=data["comment"])
        return Response(ActionSerializer(_actions([a.pk for a in actions]), many=True).data)


class ActionReject(APIView):
    """Reject the pending decision this action belongs to, with a comment; the case goes back to review."""

    permission_classes = [Can("approval.decide")]

    @extend_schema(request=RequiredCommentSerializer, responses=ActionSerializer(many=True))
    def post(self, request, pk):
        data = _valid(RequiredCommentSerializer, request.data)
        actions = services.decision_reject(action=pk, actor=request.user, comment=data["comment"])
        return Response(ActionSerializer(_actions([a.pk for a in actions]), many=True).data)


class ActionReverse(APIView):
    """Reverse an active or expired action with a reason; its strike stops counting."""

    permission_classes = [Can("action.reverse")]

    @extend_schema(request=ReasonSerializer, responses=ActionSerializer)
    def post(self, request, pk):
        data = _valid(ReasonSerializer, request.data)
        action = services.action_reverse(action=pk, reason=data["reason"], actor=request.user)
        return Response(ActionSerializer(_actions([action.pk])[0]).data)


class RestrictionSerializer(serializers.Serializer):
    action_id = serializers.IntegerField()
    type = serializers.CharField()
    policy = serializers.CharField()
    applied_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.CharField()


class SubjectAppealSerializer(serializers.Serializer):
    """An appeal as the platform may see it: status, outcome and dates, nothing internal."""

    id = serializers.IntegerField()
    decision = serializers.CharField()
    appellant_kind = serializers.ChoiceField(choices=["subject", "notifier"])
    status = serializers.ChoiceField(choices=["open", "decided"])
    outcome = serializers.ChoiceField(choices=["upheld", "overturned", "modified"], allow_null=True)
    filed_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class SubjectStatusSerializer(serializers.Serializer):
    appeals = SubjectAppealSerializer(many=True, required=False,
                                      help_text="Appeals against decisions on this subject, newest first.")
    kind = serializers.CharField()
    external_id = serializers.CharField()
    restrictions = RestrictionSerializer(
        many=True, help_text=f"Active actions on the subject, newest first; at most "
                             f"{selectors.SUBJECT_STATUS_MAX_RESTRICTIONS}.")
    restrictions_truncated = serializers.BooleanField(
        help_text="True when the subject has more active actions than the list holds (the oldest are left out).")
    strikes = serializers.IntegerField(help_text="Counting strikes of the account answering for the subject.")
    strikes_by_policy = serializers.DictField(child=serializers.IntegerField())
    strike_account = serializers.CharField(allow_null=True, help_text="The account (itself, or the content's author).")
    as_of = serializers.DateTimeField()


class SubjectStatus(APIView):
    """A subject's active restrictions and strike count, for the platform and support tooling."""

    permission_classes = [Can("subject.status")]

    @extend_schema(responses=SubjectStatusSerializer)
    def get(self, request, kind, external_id):
        if kind not in ("account", "content"):
            raise InvalidInput("The kind is \"account\" or \"content\".", field_errors={"kind": ["account or content"]})
        if has_control_characters(external_id):
            raise InvalidInput("An external id has no control characters (such as NUL) in it.",
                               field_errors={"external_id": [SINGLE_LINE_MESSAGE]})
        found = selectors.subject_status(kind, external_id)
        if found is None:
            raise NotFound(f"No {kind} with external id {external_id!r} is known.")
        return Response(SubjectStatusSerializer(found).data)
