from rest_framework import generics, serializers
from rest_framework.response import Response

from tsconsole.roles import Can

from .. import selectors
from ..models import Category


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Category
        fields = ["slug", "name", "parent", "dsa_category", "dsa_keyword", "default_severity", "sensitive"]


# Where each field of CategorySerializer comes from, read as plain values: the list is read by every
# integration, and a serializer walked per category cost several times the query.
_SOURCES = {"slug": "slug", "name": "name", "parent": "parent__slug", "dsa_category": "dsa_category",
            "dsa_keyword": "dsa_keyword", "default_severity": "default_severity", "sensitive": "sensitive"}
assert list(_SOURCES) == CategorySerializer.Meta.fields


class CategoryList(generics.ListAPIView):
    """The abuse taxonomy: the category slugs integrations send with reports."""

    serializer_class = CategorySerializer
    permission_classes = [Can("taxonomy.view")]
    pagination_class = None

    def get_queryset(self):
        return selectors.categories_active()

    def list(self, request, *args, **kwargs):
        names = list(_SOURCES)
        rows = self.filter_queryset(self.get_queryset()).values_list(*_SOURCES.values())
        return Response([dict(zip(names, row, strict=True)) for row in rows])
