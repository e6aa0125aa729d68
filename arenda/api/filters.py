import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from rest_framework.filters import SearchFilter

from arenda.core.validators import normalize_phone, normalize_plate, plate_is_valid
from arenda.directory.models import Unit


class Search(SearchFilter):
    """``?search=`` that also finds phones and plates however they are typed: «8 916
    123-45-67» matches the stored +79161234567, «a123bc77» the stored А123ВС77. The typed
    text is searched as well, because an INN can look like a phone number."""

    def filter_queryset(self, request, queryset, view):
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


class UnitFilter(django_filters.FilterSet):
    min_capacity_t = django_filters.NumberFilter(field_name="capacity_t", lookup_expr="gte")
    max_capacity_t = django_filters.NumberFilter(field_name="capacity_t", lookup_expr="lte")

    class Meta:
        model = Unit
        fields = ["equipment_type", "owner", "supplier", "is_active", "has_hour_meter"]
