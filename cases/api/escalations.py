"""Escalations over the API: escalate a case, list and read escalations, acknowledge, add
findings, resolve. Wrong state → 409, not the caller's team → 403, bad package → 400 with the
field errors; the services decide all of it.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tsconsole.api_fields import LineField, TextField
from tsconsole.api_pagination import IdCursorPagination
from tsconsole.errors import NotFound
from tsconsole.roles import Can

from ..models import Escalation, EscalationNotification, EscalationSeverity
from ..selectors import escalations as selectors
from ..selectors.workspace import case_for_user, case_not_found
from ..services import escalations as services


class EscalationSerializer(serializers.ModelSerializer):
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.SerializerMethodField(help_text="The escalation page.")

    class Meta:
        model = Escalation
        fields = [
            "id", "url", "case", "severity", "team", "status", "summary", "impacted_ids", "evidence_links",
            "recommended_next_steps", "created_by", "created_at", "ack_due_at", "ladder_step", "next_notify_at",
            "acknowledged_by", "acknowledged_at", "findings", "resolved_by", "resolved_at", "resolution_note",
        ]

    def get_url(self, escalation) -> str:
        return reverse("escalation-detail", args=[escalation.pk])


class PageSerializer(serializers.ModelSerializer):
    recipient = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = EscalationNotification
        fields = ["step", "recipient", "created_at"]


class EscalationDetailSerializer(EscalationSerializer):
    paged = serializers.SerializerMethodField(help_text="Who was paged, step by step.")

    class Meta(EscalationSerializer.Meta):
        fields = [*EscalationSerializer.Meta.fields, "paged"]

    def get_paged(self, escalation) -> list[dict]:
        return PageSerializer(selectors.escalation_paging_log(escalation), many=True).data


class EscalateSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=EscalationSeverity.values)
    team = serializers.SlugField(help_text="Slug of the target team: leads, child-safety, legal, security, policy, …")
    summary = TextField(max_length=services.SUMMARY_MAX)
    impacted_ids = serializers.ListField(
        child=LineField(max_length=services.ID_MAX), required=False, default=list,
        max_length=services.MAX_IMPACTED_IDS,
    )
    evidence_links = serializers.ListField(
        child=LineField(max_length=services.LINK_MAX), required=False, default=list,
        max_length=services.MAX_EVIDENCE_LINKS,
    )
    recommended_next_steps = TextField(
        max_length=services.TEXT_MAX, required=False, allow_blank=True, default="",
    )


class FindingsSerializer(serializers.Serializer):
    findings = TextField(max_length=services.TEXT_MAX)


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[value for value, _ in services.Outcome.CHOICES])
    instructions = TextField(
        max_length=services.TEXT_MAX, required=False, allow_blank=True, default="",
        help_text="Required when the outcome is return_to_review.",
    )


def _visible(request, pk) -> Escalation:
    escalation = selectors.escalation_for(request.user, pk)
    if escalation is None:
        raise NotFound(f"Escalation {pk} does not exist or was not sent to one of your teams.")
    return escalation


class CaseEscalate(APIView):
    """Escalate a case with its package; the target team's first on-call member is paged at once."""

    permission_classes = [Can("case.work")]

    @extend_schema(request=EscalateSerializer, responses={201: EscalationSerializer})
    def post(self, request, pk):
        if case_for_user(request.user, pk) is None:
            raise case_not_found(pk)
        serializer = EscalateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation = services.case_escalate(case=pk, actor=request.user, **serializer.validated_data)
        return Response(EscalationSerializer(escalation).data, status=status.HTTP_201_CREATED)


class EscalationCursorPagination(IdCursorPagination):
    page_size = selectors.PAGE_SIZE


class EscalationList(generics.ListAPIView):
    """Escalations the caller may see, newest first. Filters: status (active = not resolved), severity,
    team (slug), case."""

    serializer_class = EscalationSerializer
    permission_classes = [Can("escalation.view")]
    filterset_class = selectors.EscalationFilter
    pagination_class = EscalationCursorPagination

    def get_queryset(self):
        return selectors.escalations_visible_to(self.request.user).select_related(
            "team", "created_by", "acknowledged_by", "resolved_by",
        )


class EscalationDetail(APIView):
    """One escalation with its paging history."""

    permission_classes = [Can("escalation.view")]

    @extend_schema(responses=EscalationDetailSerializer)
    def get(self, request, pk):
        return Response(EscalationDetailSerializer(_visible(request, pk)).data)


class _EscalationAction(APIView):
    permission_classes = [Can("escalation.view")]
    input_serializer: type[serializers.Serializer] | None = None

    def post(self, request, pk):
        _visible(request, pk)
        data = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.perform(request, pk, data)
        return Response(EscalationSerializer(_visible(request, pk)).data)


@extend_schema(request=None, responses=EscalationSerializer)
class EscalationAck(_EscalationAction):
    """Acknowledge: paging stops (team members and leads)."""

    def perform(self, request, pk, data):
        services.escalation_acknowledge(escalation=pk, actor=request.user)


@extend_schema(request=FindingsSerializer, responses=EscalationSerializer)
class EscalationFindings(_EscalationAction):
    """Append findings; on an open escalation this also acknowledges it."""

    input_serializer = FindingsSerializer

    def perform(self, request, pk, data):
        services.escalation_add_findings(escalation=pk, findings=data["findings"], actor=request.user)


@extend_schema(request=ResolveSerializer, responses=EscalationSerializer)
class EscalationResolve(_EscalationAction):
    """Resolve and return the case to review: with instructions for the analyst (return_to_review),
    or to the caller, who decides it (decide)."""

    input_serializer = ResolveSerializer

    def perform(self, request, pk, data):
        services.escalation_resolve(escalation=pk, outcome=data["outcome"], instructions=data["instructions"],
                                    actor=request.user)
