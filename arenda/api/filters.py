"""The users' FilterSet: the API lists people (they are managed there and in the admin). Every
other list's FilterSet is its app's (``<app>/filters.py``). And the API's filter backends:
Django-filter's and DRF's ordering, refusing (400 naming the parameter) a filter or an
ordering on drivers' pay to whoever may not see it (``core.roles.is_pay_field``)."""

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError

from arenda.core.models import User
from arenda.core.roles import can_see_pay, is_pay_field
from arenda.core.search import Search
from arenda.front.filters import ListFilterSet, SearchFilter


class UserFilter(ListFilterSet):
    search = SearchFilter(Search(text=("username", "full_name", "email"), phones=("phone",)))

    class Meta:
        model = User
        fields = ["role", "is_active"]


def _no_pay(request, names: list[str], parameter) -> None:
    if can_see_pay(request.user):
        return
    for name in names:
        if is_pay_field(name):
            raise ValidationError(
                {parameter(name): [_("Only those who may see drivers' pay may sort or filter by it.")]},
                code="pay_hidden",
            )


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        _no_pay(request, list(request.query_params.keys()), lambda name: name)
        return super().filter_queryset(request, queryset, view)


class OrderingFilter(filters.OrderingFilter):
    def get_ordering(self, request, queryset, view):
        terms = request.query_params.get(self.ordering_param, "")
        _no_pay(request, terms.split(","), lambda name: self.ordering_param)
        return super().get_ordering(request, queryset, view)
