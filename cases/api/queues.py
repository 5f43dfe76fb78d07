"""Queues over the API: the caller's queues with their counts, claiming the next case, and queue
configuration (settings, teams, SLA targets) for leads."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tsconsole.api_fields import ModelSerializer
from tsconsole.errors import NotFound
from tsconsole.models import Team
from tsconsole.roles import Can

from ..models import Priority, Queue, QueueSla
from ..selectors import workspace as selectors
from ..services import queue_config, workflow
from ..sla import MAX_SLA_MINUTES
from .cases import CaseSerializer


class QueueSlaSerializer(ModelSerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    first_touch_minutes = serializers.IntegerField(min_value=1, max_value=MAX_SLA_MINUTES)
    resolution_minutes = serializers.IntegerField(min_value=1, max_value=MAX_SLA_MINUTES)

    def validate(self, attrs):
        # A queue's targets are replaced as a whole, so each target is whole even in a PATCH.
        missing = [name for name in self.fields if name not in attrs]
        if missing:
            raise serializers.ValidationError({name: ["This field is required."] for name in missing})
        return attrs

    class Meta:
        model = QueueSla
        fields = ["priority", "first_touch_minutes", "resolution_minutes"]


class QueueSerializer(ModelSerializer):
    """A queue's configuration. `allowed_teams` empty: everyone who works cases may work it."""

    allowed_teams = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Team.objects.all(),
                                                 required=False)
    sla_targets = QueueSlaSerializer(many=True, required=False)
    claim_timeout_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60, required=False)
    complexity_weight = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0.01"),
                                                 required=False)

    class Meta:
        model = Queue
        fields = ["slug", "name", "description", "allowed_teams", "complexity_weight", "claim_timeout_minutes",
                  "pause_sla_on_hold", "raise_priority_on_breach", "is_active", "position", "is_default",
                  "sla_targets"]
        read_only_fields = ["is_default"]
        # Uniqueness is the service's answer (409), not a validator's race-prone pre-check.
        extra_kwargs = {"slug": {"validators": []}}


class QueueSummarySerializer(serializers.Serializer):
    slug = serializers.CharField(source="queue.slug")
    name = serializers.CharField(source="queue.name")
    open_count = serializers.IntegerField(help_text="Unresolved cases.")
    unassigned = serializers.IntegerField(help_text="Open cases nobody has claimed.")
    in_progress = serializers.IntegerField()
    oldest_unassigned = serializers.DateTimeField(allow_null=True)
    at_risk = serializers.IntegerField(help_text="Unresolved cases with under 25% of an SLA target left.")
    breached = serializers.IntegerField(help_text="Unresolved cases past an SLA target.")
    claim_timeout_minutes = serializers.IntegerField(source="queue.claim_timeout_minutes")
    counted_at = serializers.DateTimeField(help_text="When the counts were taken (they are shared for a few seconds).")


def _configure_permissions(request):
    return [Can("queue.configure")()] if request.method not in ("GET", "HEAD", "OPTIONS") else [Can("case.work")()]


class QueueListCreate(APIView):
    """GET: the queues the caller may work, with their counts. POST (leads): create a queue."""

    def get_permissions(self):
        return _configure_permissions(self.request)

    @extend_schema(responses=QueueSummarySerializer(many=True))
    def get(self, request):
        return Response(QueueSummarySerializer(selectors.queue_summaries(request.user), many=True).data)

    @extend_schema(request=QueueSerializer, responses={201: QueueSerializer})
    def post(self, request):
        serializer = QueueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queue = queue_config.queue_save(actor=request.user, data=serializer.validated_data)
        return Response(QueueSerializer(queue).data, status=status.HTTP_201_CREATED)


class QueueDetail(APIView):
    """GET: a queue's configuration (queues the caller may work). PATCH/PUT (leads): change it."""

    def get_permissions(self):
        return _configure_permissions(self.request)

    def _queue(self, request, slug, *, configure: bool) -> Queue:
        qs = Queue.objects.all() if configure else Queue.objects.filter(selectors.queue_access_q(request.user))
        queue = qs.filter(slug=slug).first()
        if queue is None:
            raise NotFound(f"There is no queue “{slug}” you may see.")
        return queue

    @extend_schema(responses=QueueSerializer)
    def get(self, request, slug):
        return Response(QueueSerializer(self._queue(request, slug, configure=False)).data)

    def _update(self, request, slug, *, partial: bool):
        queue = self._queue(request, slug, configure=True)
        serializer = QueueSerializer(queue, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        queue = queue_config.queue_save(actor=request.user, queue=queue, data=serializer.validated_data)
        return Response(QueueSerializer(queue).data)

    @extend_schema(request=QueueSerializer, responses=QueueSerializer)
    def patch(self, request, slug):
        return self._update(request, slug, partial=True)

    @extend_schema(request=QueueSerializer, responses=QueueSerializer)
    def put(self, request, slug):
        return self._update(request, slug, partial=False)


class QueueClaim(APIView):
    """Claim the highest-priority, soonest-due unassigned case of the queue: 200 with the case, or
    204 when nothing is waiting."""

    permission_classes = [Can("case.work")]

    @extend_schema(request=None, responses={200: CaseSerializer, 204: OpenApiResponse(description="The queue is empty.")})
    def post(self, request, slug):
        case = workflow.case_claim_next(queue=slug, actor=request.user)
        if case is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CaseSerializer(case).data)
