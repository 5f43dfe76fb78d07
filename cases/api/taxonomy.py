from rest_framework import generics, serializers

from tsconsole.roles import Can

from .. import selectors
from ..models import Category


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Category
        fields = ["slug", "name", "parent", "dsa_category", "dsa_keyword", "default_severity", "sensitive"]


class CategoryList(generics.ListAPIView):
    """The abuse taxonomy: the category slugs integrations send with reports."""

    serializer_class = CategorySerializer
    permission_classes = [Can("taxonomy.view")]
    pagination_class = None

    def get_queryset(self):
        return selectors.categories_active()
