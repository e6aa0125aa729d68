"""The users' FilterSet: the API lists people (they are managed there and in the admin). Every
other list's FilterSet is its app's (``<app>/filters.py``)."""

from arenda.core.models import User
from arenda.core.search import Search
from arenda.front.filters import ListFilterSet, SearchFilter


class UserFilter(ListFilterSet):
    search = SearchFilter(Search(text=("username", "full_name", "email"), phones=("phone",)))

    class Meta:
        model = User
        fields = ["role", "is_active"]
