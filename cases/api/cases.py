"""Cases over the API: the filtered list (same FilterSet as the HTML list, cursor pagination), one
case, and the workspace actions (notes, evidence, release, hold, resume, hand off, resolve).

Actions answer 409 with a message when the case is in the wrong state or held by someone else.
"""

from django.urls import get_script_prefix, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from tsconsole.api_fields import LineField, TextField
from tsconsole.api_pagination import IdCursorPagination
from tsconsole.api_parsers import JSONParser
from tsconsole.roles import Can

from ..filters import CaseFilter
from ..models import Case, CaseEvent, Evidence, Note, Subject
from ..selectors import workspace as selectors
from ..services import workflow

_DATETIME = serializers.DateTimeField()


def _iso(value, zone=None):
    """DRF's DateTimeField output (ISO 8601 in the current time zone, `Z` for UTC), without its
    per-value lookups: `zone` is the current zone, read once per case by the caller."""
    if value is None:
        return None
    if zone is None or not timezone.is_aware(value):
        return _DATETIME.to_representation(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _username(user):
    return user.get_username() if user is not None else None


_CASE_URLS: dict[str, tuple[str, str]] = {}
_URL_PROBE = 918273645


def _case_url(pk: int) -> str:
    """reverse("case-detail", args=[pk]), resolved once per script prefix rather than per case."""
    prefix = get_script_prefix()
    parts = _CASE_URLS.get(prefix)
    if parts is None:
        head, _, tail = reverse("case-detail", args=[_URL_PROBE]).partition(str(_URL_PROBE))
        parts = _CASE_URLS[prefix] = (head, tail)
    return f"{parts[0]}{pk}{parts[1]}"


class SubjectBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = ["kind", "external_id", "handle", "content_type"]


class CaseSerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    held_for = serializers.SlugRelatedField(slug_field="username", read_only=True)
    held_for_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    tags = serializers.SerializerMethodField()
    subject = SubjectBriefSerializer(read_only=True)
    url = serializers.SerializerMethodField(help_text="The case page.")

    class Meta:
        model = Case
        fields = [
            "id", "url", "status", "priority", "priority_reasons", "queue", "category", "subject", "assignee",
            "claimed_at", "first_touched_at", "first_touch_due_at", "resolution_due_at", "sla_paused_at",
            "held_for", "held_for_team", "hold_reason", "resolution", "resolution_reason", "resolved_by",
            "resolved_at", "report_count", "reporter_count", "tags", "opened_at", "updated_at",
        ]

    def get_tags(self, case) -> list[str]:
        return [tag.name for tag in case.tags.all()]

    def get_url(self, case) -> str:
        return _case_url(case.pk)

    def to_representation(self, case):
        # Written out rather than walked field by field: this is the body of every claim, and
        # building a ModelSerializer's fields per response cost more than the claim itself. The
        # declared fields above still describe it in the OpenAPI schema (a test compares them).
        subject = case.subject
        zone = timezone.get_current_timezone()
        values = case.__dict__
        if "queue_slug" in values:  # a list row: related values came as subqueries (selectors.case_list_values)
            queue, category, tags = values["queue_slug"], values["category_slug"], values["tag_names"]
            assignee, held_for = values["assignee_username"], values["held_for_username"]
            held_for_team, resolved_by = values["held_for_team_slug"], values["resolved_by_username"]
        else:
            queue, category, tags = case.queue.slug, case.category.slug, self.get_tags(case)
            assignee, held_for = _username(case.assignee), _username(case.held_for)
            held_for_team = case.held_for_team.slug if case.held_for_team_id else None
            resolved_by = _username(case.resolved_by)
        return {
            "id": case.pk, "url": _case_url(case.pk), "status": case.status, "priority": case.priority,
            "priority_reasons": case.priority_reasons, "queue": queue, "category": category,
            "subject": {"kind": subject.kind, "external_id": subject.external_id, "handle": subject.handle,
                        "content_type": subject.content_type},
            "assignee": assignee, "claimed_at": _iso(case.claimed_at, zone),
            "first_touched_at": _iso(case.first_touched_at, zone), "first_touch_due_at": _iso(case.first_touch_due_at, zone),
            "resolution_due_at": _iso(case.resolution_due_at, zone), "sla_paused_at": _iso(case.sla_paused_at, zone),
            "held_for": held_for, "held_for_team": held_for_team,
            "hold_reason": case.hold_reason, "resolution": case.resolution, "resolution_reason": case.resolution_reason,
            "resolved_by": resolved_by, "resolved_at": _iso(case.resolved_at, zone),
            "report_count": case.report_count, "reporter_count": case.reporter_count, "tags": list(tags),
            "opened_at": _iso(case.opened_at, zone), "updated_at": _iso(case.updated_at, zone),
        }


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Note
        fields = ["id", "author", "body", "created_at"]


class EvidenceSerializer(serializers.ModelSerializer):
    captured_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "kind", "original_name", "description", "content_type", "size", "sha256", "sensitive",
                  "captured_by", "captured_at", "download_url"]

    def get_download_url(self, evidence) -> str:
        return reverse("evidence-download", args=[evidence.pk])


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["id", "verb", "actor", "actor_kind", "from_status", "to_status", "data", "created_at"]


class CaseDetailSerializer(CaseSerializer):
    notes = NoteSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField(help_text="The newest events first (at most 100).")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "notes", "evidence", "events"]

    def get_events(self, case) -> list[dict]:
        events = case.events.select_related("actor").order_by("-created_at", "-id")[: selectors.CASE_PAGE_EVENTS]
        return EventSerializer(events, many=True).data

    def to_representation(self, case):
        data = super().to_representation(case)
        data["notes"] = NoteSerializer(case.notes.all(), many=True).data
        data["evidence"] = EvidenceSerializer(case.evidence.all(), many=True).data
        data["events"] = self.get_events(case)
        return data


class CaseCursorPagination(IdCursorPagination):
    page_size = selectors.LIST_PAGE_SIZE


class CaseList(generics.ListAPIView):
    """Cases the caller may see, newest first; filters as on the HTML case list."""

    serializer_class = CaseSerializer
    permission_classes = [Can("case.view")]
    filterset_class = CaseFilter
    pagination_class = CaseCursorPagination

    def get_queryset(self):
        return (
            selectors.case_queryset().filter(selectors.case_access_q(self.request.user))
            .select_related("subject").annotate(**selectors.case_list_values())
        )

    def filter_queryset(self, queryset):
        # A FilterSet deep-copies its filters when made: not worth it for a request that filters nothing.
        if not any(name in self.request.query_params for name in CaseFilter.base_filters):
            return queryset
        return super().filter_queryset(queryset)


_CASE_FOR_RESPONSE = selectors.case_queryset().select_related(
    "subject", "queue", "category", "assignee", "held_for", "held_for_team", "resolved_by").prefetch_related("tags")


def _visible_case(request, pk, *, detail: bool = False) -> Case:
    qs = selectors.case_queryset().filter(selectors.case_access_q(request.user), pk=pk).select_related(
        "subject", "queue", "category", "assignee", "held_for", "held_for_team", "resolved_by",
    ).prefetch_related("tags")
    if detail:
        qs = qs.prefetch_related("notes__author", "evidence__captured_by")
    case = qs.first()
    if case is None:
        raise selectors.case_not_found(pk)
    return case


class CaseDetail(APIView):
    """One case with its notes, evidence (metadata and download links) and newest events."""

    permission_classes = [Can("case.view")]

    @extend_schema(responses=CaseDetailSerializer)
    def get(self, request, pk):
        return Response(CaseDetailSerializer(_visible_case(request, pk, detail=True)).data)


class _CaseAction(APIView):
    permission_classes = [Can("case.work")]
    input_serializer: type[serializers.Serializer] | None = None

    def post(self, request, pk):
        selectors.require_case_visible(request.user, pk)
        data = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.perform(request, pk, data)
        # The service let the caller act; answer with the case as it is now, even if the action
        # moved it out of the caller's sight (say, a hand-off).
        return Response(CaseSerializer(_CASE_FOR_RESPONSE.get(pk=pk)).data)


class CaseResolveInputSerializer(serializers.Serializer):
    reason = TextField(max_length=2000)


class CaseReleaseInputSerializer(serializers.Serializer):
    reason = TextField(max_length=2000, required=False, allow_blank=True, default="")


class CaseHoldInputSerializer(serializers.Serializer):
    reason = TextField(max_length=2000)
    helper = LineField(required=False, help_text="Username of the person asked for help.")
    team = serializers.SlugField(required=False, help_text="Slug of the team asked for help.")

    def validate(self, attrs):
        if bool(attrs.get("helper")) == bool(attrs.get("team")):
            raise serializers.ValidationError({"helper": ["Give a helper or a team (one of them)."]})
        return attrs


class CaseHandoffInputSerializer(serializers.Serializer):
    to = LineField(help_text="Username of the colleague who takes the case.")
    reason = TextField(max_length=2000, required=False, allow_blank=True, default="")


@extend_schema(request=CaseReleaseInputSerializer, responses=CaseSerializer)
class CaseRelease(_CaseAction):
    """Give the case back to its queue (assignee, or a lead)."""

    input_serializer = CaseReleaseInputSerializer

    def perform(self, request, pk, data):
        workflow.case_release(case=pk, actor=request.user, reason=data["reason"])


@extend_schema(request=CaseHoldInputSerializer, responses=CaseSerializer)
class CaseHold(_CaseAction):
    """Put the case on hold while a person or team helps."""

    input_serializer = CaseHoldInputSerializer

    def perform(self, request, pk, data):
        workflow.case_hold(case=pk, reason=data["reason"], actor=request.user,
                           helper=data.get("helper") or None, team=data.get("team") or None)


@extend_schema(request=None, responses=CaseSerializer)
class CaseResume(_CaseAction):
    """End the hold (the assignee, or the helper, who then takes the case over)."""

    def perform(self, request, pk, data):
        workflow.case_resume(case=pk, actor=request.user)


@extend_schema(request=CaseHandoffInputSerializer, responses=CaseSerializer)
class CaseHandoff(_CaseAction):
    """Give the case to a named colleague who may work its queue."""

    input_serializer = CaseHandoffInputSerializer

    def perform(self, request, pk, data):
        workflow.case_handoff(case=pk, to_user=data["to"], actor=request.user, reason=data["reason"])


@extend_schema(request=CaseResolveInputSerializer, responses=CaseSerializer)
class CaseResolve(_CaseAction):
    """Resolve as no violation, with the reason; reporters are told no action was taken."""

    input_serializer = CaseResolveInputSerializer

    def perform(self, request, pk, data):
        workflow.case_resolve_no_violation(case=pk, reason=data["reason"], actor=request.user)


class CaseNoteInputSerializer(serializers.Serializer):
    body = TextField(max_length=workflow.NOTE_MAX_CHARS)


class CaseNotes(APIView):
    """Add an internal note."""

    permission_classes = [Can("case.work")]

    @extend_schema(request=CaseNoteInputSerializer, responses={201: NoteSerializer})
    def post(self, request, pk):
        selectors.require_case_visible(request.user, pk)
        serializer = CaseNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = workflow.note_add(case=pk, body=serializer.validated_data["body"], actor=request.user)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class CaseEvidenceInputSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="multipart/form-data upload.")
    text = TextField(required=False, allow_blank=True, trim_whitespace=False,
                                 help_text="A pasted text extract (instead of a file).")
    description = TextField(required=False, allow_blank=True, max_length=500, default="")


class CaseEvidence(APIView):
    """Add evidence: a file (multipart, field `file`) or a text extract (`text`, JSON or form)."""

    permission_classes = [Can("case.work")]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": CaseEvidenceInputSerializer, "application/json": CaseEvidenceInputSerializer},
        responses={201: EvidenceSerializer},
    )
    def post(self, request, pk):
        selectors.require_case_visible(request.user, pk)
        serializer = CaseEvidenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        evidence = workflow.evidence_add(case=pk, actor=request.user, upload=data.get("file"),
                                         text=data.get("text", ""), description=data.get("description", ""))
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

