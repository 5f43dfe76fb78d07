"""Intake configuration over the API, for admins: routing rules (ordered, first match wins) and the
trusted-flagger register. Both need the capability `routing.configure`."""

from django.contrib.auth import get_user_model
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from tsconsole.api_fields import ModelSerializer
from tsconsole.roles import INTEGRATION, Can

from ..models import Category, Queue, RoutingRule, Source, TrustedFlagger
from ..services import routing_config


class RoutingRuleSerializer(ModelSerializer):
    """A routing rule: reports matching every condition set go to `queue`. Empty conditions match anything;
    `category` matches that category and all below it; `language` "pt" also matches "pt-BR"."""

    queue = serializers.SlugRelatedField(slug_field="slug", queryset=Queue.objects.all())
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all(), required=False,
                                            allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices, required=False, allow_blank=True)
    min_classifier_score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    language = serializers.RegexField(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16, required=False,
                                      allow_blank=True)
    territory = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True)

    class Meta:
        model = RoutingRule
        fields = ["id", "position", "name", "queue", "category", "source", "min_classifier_score", "language",
                  "territory", "is_active"]


class _RuleMixin:
    serializer_class = RoutingRuleSerializer
    permission_classes = [Can("routing.configure")]

    def get_queryset(self):
        return RoutingRule.objects.select_related("queue", "category").order_by("position", "id")


class RoutingRuleList(_RuleMixin, generics.ListCreateAPIView):
    """Routing rules in the order they are tried. The default queue takes reports no rule matches."""

    pagination_class = None  # a configuration list of tens of rows, read whole

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = routing_config.routing_rule_save(actor=request.user, data=serializer.validated_data)
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)


class RoutingRuleDetail(_RuleMixin, generics.RetrieveUpdateDestroyAPIView):
    def update(self, request, *args, **kwargs):
        rule = self.get_object()
        serializer = self.get_serializer(rule, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        rule = routing_config.routing_rule_save(actor=request.user, data=serializer.validated_data, rule=rule)
        return Response(self.get_serializer(rule).data)

    def destroy(self, request, *args, **kwargs):
        routing_config.routing_rule_delete(actor=request.user, rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrustedFlaggerSerializer(ModelSerializer):
    """A trusted flagger (DSA Art. 22). `user` is the integration account whose API token it uses;
    `areas` are the category slugs of its expertise (each covers the categories below it)."""

    areas = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Category.objects.all(),
                                         required=False)
    user = serializers.SlugRelatedField(
        slug_field="username", required=False, allow_null=True,
        queryset=get_user_model().objects.filter(groups__name=INTEGRATION),
        help_text="Username of an integration account.",
    )

    class Meta:
        model = TrustedFlagger
        fields = ["id", "name", "awarding_authority", "areas", "user", "contact_email", "awarded_at", "is_active"]


class _FlaggerMixin:
    serializer_class = TrustedFlaggerSerializer
    permission_classes = [Can("routing.configure")]

    def get_queryset(self):
        return TrustedFlagger.objects.select_related("user").prefetch_related("areas").order_by("name", "id")


class TrustedFlaggerList(_FlaggerMixin, generics.ListCreateAPIView):
    """The trusted-flagger register."""

    pagination_class = None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        flagger = routing_config.trusted_flagger_save(actor=request.user, data=serializer.validated_data)
        return Response(self.get_serializer(flagger).data, status=status.HTTP_201_CREATED)


class TrustedFlaggerDetail(_FlaggerMixin, generics.RetrieveUpdateDestroyAPIView):
    def update(self, request, *args, **kwargs):
        flagger = self.get_object()
        serializer = self.get_serializer(flagger, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        flagger = routing_config.trusted_flagger_save(actor=request.user, data=serializer.validated_data,
                                                      flagger=flagger)
        return Response(self.get_serializer(flagger).data)

    def destroy(self, request, *args, **kwargs):
        """Deletes the entry; a flagger that has sent reports is deactivated instead (its reports keep the link)."""
        routing_config.trusted_flagger_delete(actor=request.user, flagger=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
