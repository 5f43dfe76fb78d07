"""Appeals over the API: file (the platform, for a user who appealed in the product), list, read,
and decide.

POST /appeals/ answers 201 with the new appeal, or 200 with the first one when the same source and
external_id come again. Errors share the console's shape `{"detail", "errors"}`: bad input or no
standing 400, unknown decision 404, a decision that cannot be appealed (reversed, pending) or an
appeal already decided 409, the reviewer rules 403.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors.workspace import case_visible
from enforcement.api import ActionInputSerializer
from tsconsole.api_pagination import IdCursorPagination
from tsconsole.errors import InvalidInput, NotFound
from tsconsole.roles import Can, can

from . import selectors, services
from .filters import AppealFilter
from .models import AppellantKind, Channel, Outcome

ERROR = OpenApiResponse(description='`{"detail": "...", "errors": {field: [...]}}`')


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise InvalidInput("Some fields are not valid.", field_errors=serializer.errors)
    return serializer.validated_data


class AppellantSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AppellantKind.choices,
                                   help_text="subject: the restricted account or the content's author; notifier: a reporter of the case.")
    external_id = serializers.CharField(max_length=services.REF_MAX_CHARS, help_text="The appellant's account id on the platform.")


class AppealCreateSerializer(serializers.Serializer):
    decision = serializers.CharField(max_length=64, help_text="The decision reference (`decision` of the enforcement webhooks).")
    appellant = AppellantSerializer()
    source = serializers.CharField(max_length=40, help_text="Who sends it; with external_id, the idempotency key.")
    external_id = serializers.CharField(max_length=services.REF_MAX_CHARS)
    statement = serializers.CharField(max_length=services.STATEMENT_MAX_CHARS, help_text="The user's own words.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default=Channel.IN_PRODUCT)


class AppealDecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    rationale = serializers.CharField(max_length=services.TEXT_MAX_CHARS, help_text="Internal; never sent to the appellant.")
    statement = serializers.CharField(max_length=services.TEXT_MAX_CHARS, help_text="The reasoned answer sent to the appellant.")
    actions = ActionInputSerializer(
        many=True, required=False,
        help_text="Only for modified, or overturned on a notifier's appeal: the new actions, as for deciding a case.",
    )
    policy = serializers.SlugField(required=False, allow_blank=True, help_text="Default: the contested decision's policy.")


class AppealSerializer(serializers.Serializer):
    """An appeal. Internal fields (reviewer, rationale, original decider and approver) are null for
    callers who may not view cases (the platform, support)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["open", "decided"])
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_null=True)
    decision = serializers.CharField()
    appellant = AppellantSerializer()
    source = serializers.CharField()
    external_id = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    statement = serializers.CharField()
    queue = serializers.CharField()
    case = serializers.IntegerField(help_text="The appeal's case in the appeals queue.")
    due_at = serializers.DateTimeField(allow_null=True, help_text="When the review is due (the queue's SLA).")
    filed_at = serializers.DateTimeField()
    window_closes_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    response = serializers.CharField(allow_null=True, help_text="The statement sent to the appellant.")
    new_decision = serializers.CharField(allow_null=True)
    policy = serializers.CharField()
    action_type = serializers.CharField(help_text="The most severe action of the contested decision.")
    decision_case = serializers.IntegerField(allow_null=True)
    case_status = serializers.CharField(allow_null=True)
    rationale = serializers.CharField(allow_null=True)
    decided_by = serializers.CharField(allow_null=True)
    original_decider = serializers.CharField(allow_null=True)
    original_approver = serializers.CharField(allow_null=True)

    def to_representation(self, appeal):
        internal = can(self.context["request"].user, "case.view")

        def name(user):
            return user.get_username() if user is not None and internal else None

        return {
            "id": appeal.pk, "status": appeal.status, "outcome": appeal.outcome or None,
            "decision": str(appeal.decision_ref),
            "appellant": {"kind": appeal.appellant_kind, "external_id": appeal.appellant_ref},
            "source": appeal.source, "external_id": appeal.external_id, "channel": appeal.channel,
            "statement": appeal.statement, "queue": appeal.case.queue.slug, "case": appeal.case_id,
            "due_at": appeal.case.resolution_due_at if appeal.is_open else None,
            "filed_at": appeal.filed_at, "window_closes_at": appeal.window_closes_at, "decided_at": appeal.decided_at,
            "response": appeal.response or None,
            "new_decision": str(appeal.new_decision_ref) if appeal.new_decision_ref else None,
            "policy": appeal.policy.slug, "action_type": appeal.action_type,
            "decision_case": appeal.decision_case_id if internal else None,
            "case_status": appeal.case.status if internal else None,
            "rationale": (appeal.rationale or None) if internal else None,
            "decided_by": name(appeal.decided_by), "original_decider": name(appeal.original_decider),
            "original_approver": name(appeal.original_approver),
        }


class AppealCursorPagination(IdCursorPagination):
    page_size = selectors.LIST_PAGE_SIZE


@extend_schema_view(
    get=extend_schema(summary="Appeals, newest first", responses={200: AppealSerializer(many=True), 400: ERROR}),
    post=extend_schema(
        summary="File an appeal", request=AppealCreateSerializer,
        responses={201: AppealSerializer, 200: OpenApiResponse(AppealSerializer, description="A replay: the first appeal, unchanged."),
                   400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    ),
)
class AppealListCreate(generics.ListAPIView):
    """GET: appeals, filtered by status, outcome, queue, policy, decided_by and filing time.
    POST: file an appeal for an affected user or a notifier within the appeal window."""

    serializer_class = AppealSerializer
    filterset_class = AppealFilter
    pagination_class = AppealCursorPagination

    def get_permissions(self):
        return [Can("appeal.create" if self.request.method == "POST" else "appeal.view")()]

    def get_queryset(self):
        return selectors.appeal_queryset()

    def post(self, request):
        data = _valid(AppealCreateSerializer, request.data)
        filed = services.appeal_file(
            decision=data["decision"], appellant_kind=data["appellant"]["kind"],
            appellant_ref=data["appellant"]["external_id"], source=data["source"], external_id=data["external_id"],
            statement=data["statement"], channel=data["channel"], actor=request.user,
        )
        appeal = selectors.appeal_get(filed.appeal.pk)
        return Response(AppealSerializer(appeal, context={"request": request}).data,
                        status=status.HTTP_201_CREATED if filed.created else status.HTTP_200_OK)


class AppealDetail(APIView):
    """One appeal."""

    permission_classes = [Can("appeal.view")]

    @extend_schema(responses={200: AppealSerializer, 404: ERROR})
    def get(self, request, pk):
        appeal = selectors.appeal_get(pk)
        if appeal is None:
            raise NotFound(f"Appeal {pk} does not exist.")
        return Response(AppealSerializer(appeal, context={"request": request}).data)


class AppealDecide(APIView):
    """Decide an appeal: upheld, overturned (the decision's actions reversed) or modified (replaced by
    `actions`). The reviewer holds the appeal's case and did not make or approve the decision."""

    permission_classes = [Can("appeal.decide")]

    @extend_schema(request=AppealDecideSerializer,
                   responses={200: AppealSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, pk):
        data = _valid(AppealDecideSerializer, request.data)
        appeal = selectors.appeal_get(pk)
        if appeal is None or not case_visible(request.user, appeal.case_id):
            raise NotFound(f"Appeal {pk} does not exist or is not in a queue you may work.")
        actions = [{k: v for k, v in item.items() if v is not None} for item in data.get("actions") or []]
        services.appeal_decide(
            appeal=pk, outcome=data["outcome"], rationale=data["rationale"], statement=data["statement"],
            actions=actions or None, policy=data.get("policy") or None, actor=request.user,
        )
        return Response(AppealSerializer(selectors.appeal_get(pk), context={"request": request}).data)
