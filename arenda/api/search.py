"""``GET /api/v1/search/?q=``: search everywhere, as the header and ``/search/`` do
(``arenda/front/search.py``, docs/search.md)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from arenda.front import search


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(
        min_length=search.MIN_LENGTH,
        max_length=search.MAX_LENGTH,
        help_text=_(
            "Name, INN, phone in any format, plate (Latin or Cyrillic), number: at least two characters"
        ),
    )

    def validate_q(self, value):
        text = search.clean(value)
        if not search.is_searchable(text):
            raise serializers.ValidationError(
                _("Type at least %(n)s characters.") % {"n": search.MIN_LENGTH}, code="min_length"
            )
        return text


RESULT_FIELDS = {
    "id": serializers.IntegerField(),
    "title": serializers.CharField(),
    "subtitle": serializers.CharField(),
    "url": serializers.CharField(),
}

SearchAnswer = inline_serializer(
    "SearchAnswer",
    {
        "q": serializers.CharField(),
        "groups": inline_serializer(
            "SearchGroup",
            {
                "kind": serializers.ChoiceField(choices=[k.kind for k in search.KINDS]),
                "label": serializers.CharField(),
                "results": inline_serializer("SearchResult", RESULT_FIELDS, many=True),
            },
            many=True,
        ),
    },
)


class SearchView(APIView):
    """Counterparties, contacts, deals, bookings, invoices, acts, units and drivers that
    match ``q``, grouped, at most ``search.HEADER_LIMIT`` each, only the kinds the role may
    view."""

    resource = None

    @extend_schema(parameters=[SearchQuery], responses=SearchAnswer)
    def get(self, request):
        query = SearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        text = query.validated_data["q"]
        groups = search.search(request.user, text, limit=search.HEADER_LIMIT)
        return Response(
            {
                "q": text,
                "groups": [
                    {
                        "kind": g.kind,
                        "label": g.label,
                        "results": [
                            {"id": r.id, "title": r.title, "subtitle": r.subtitle, "url": r.url}
                            for r in g.results
                        ],
                    }
                    for g in groups
                ],
            }
        )
