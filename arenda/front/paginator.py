"""The paginator of every list page: it counts at most ``COUNT_CAP`` + 1 rows.

Django's ``Paginator`` runs ``COUNT(*)`` over the whole filtered list on every page: with
100 000 counterparties that is a scan of them all each time a page opens. This one asks
``SELECT count(*) FROM (… LIMIT COUNT_CAP + 1)``: past the cap the list says «more than
10 000» and offers the pages up to the cap; the rows beyond are reached by narrowing the
search or a filter, which the page says (``front/templates/front/_pagination.html``).
See ``docs/large-lists.md``.
"""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

# Rows counted at most; a multiple of the page size, so the last reachable page is full.
COUNT_CAP = 10_000


class CappedPage(Page):
    def end_index(self) -> int:
        """The last row's number on this page (a capped list's count is not its end)."""
        if not self.object_list:
            return 0
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class CappedPaginator(Paginator):
    """A ``Paginator`` whose ``count`` stops at ``cap`` (``capped`` tells it did)."""

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        # read at construction, so a test may patch ``COUNT_CAP``
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def _counted(self) -> int:
        """Rows up to ``cap`` + 1: one more than the cap tells there are more."""
        if isinstance(self.object_list, QuerySet):
            return self.object_list.order_by()[: self.cap + 1].count()
        return min(len(self.object_list), self.cap + 1)

    @cached_property
    def capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @cached_property
    def cap_label(self) -> str:
        return number_format(self.cap, force_grouping=True)

    @cached_property
    def total_label(self) -> str:
        """The count as the page shows it: «12», or «10 000+» past the cap."""
        if self.capped:
            return _("%(count)s+") % {"count": self.cap_label}
        return number_format(self.count, force_grouping=True)

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)

    def get_page(self, number):
        """The page asked for, its rows read before anything is counted: a page that is not
        full ends the list, so its rows tell the count (a search that finds a few rows is
        not counted at all). A full page, or none, asks the capped count."""
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        if number >= 1 and "_counted" not in self.__dict__:
            bottom = (number - 1) * self.per_page
            rows = list(self.object_list[bottom : bottom + self.per_page])
            if bottom + len(rows) > self.cap:
                pass  # past the cap: the capped count decides which page is shown
            elif 0 < len(rows) < self.per_page or (number == 1 and not rows):
                self.__dict__["_counted"] = bottom + len(rows)
                return self._get_page(rows, number, self)
            elif len(rows) == self.per_page:
                return self._get_page(rows, number, self)
        return super().get_page(number)

    def page(self, number):
        """The page's rows; a capped list's pages are all full (the count is not the end)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.capped and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.object_list[bottom:top], number, self)
