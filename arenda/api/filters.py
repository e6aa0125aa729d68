from django.core.exceptions import ValidationError
from django.db.models import Q
from rest_framework import filters as drf_filters

from arenda.core import search as core_search
from arenda.core.models import User
from arenda.core.validators import normalize_phone, normalize_plate, plate_is_valid
from arenda.front.filters import ListFilterSet, SearchFilter


class Search(drf_filters.SearchFilter):
    """``?search=`` that also finds phones and plates however they are typed: «8 916
    123-45-67» matches the stored +79161234567, «a123bc77» the stored А123ВС77. The typed
    text is searched as well, because an INN can look like a phone number."""

    def filter_queryset(self, request, queryset, view):
        if not self.get_search_fields(view, request):
            return queryset  # the view's FilterSet searches
        found = super().filter_queryset(request, queryset, view)
        fields = self.get_search_fields(view, request)
        variant = self._normalised(request.query_params.get(self.search_param, "").strip())
        if not fields or variant is None:
            return found
        condition = Q()
        for field in fields:
            condition |= Q(**{self.construct_search(str(field), queryset): variant})
        return found | queryset.filter(condition)

    @staticmethod
    def _normalised(raw: str) -> str | None:
        if not raw or "\x00" in raw:
            return None
        if plate_is_valid(raw):
            variant = normalize_plate(raw)
        else:
            try:
                variant = normalize_phone(raw)
            except ValidationError:
                return None
        return variant if variant != raw else None


class UserFilter(ListFilterSet):
    """The users' list (the API only: people are managed here and in the admin)."""

    search = SearchFilter(core_search.Search(text=("username", "full_name", "email"), phones=("phone",)))

    class Meta:
        model = User
        fields = ["role", "is_active"]
