"""The working calendar page (Administration → Working calendar): the hours per weekday and
the admin's overrides per date, above the Russian production calendar of the ``holidays``
library (docs/working-calendar.md). The writes go through ``arenda.core.workcalendar``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.core import workcalendar
from arenda.core.models import CalendarDay, CompanySettings
from arenda.core.permissions import require
from arenda.core.roles import Action

RESOURCE = "company_settings"
WEEKDAYS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
]
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class WorkingWeekForm(forms.Form):
    """Start and end per weekday; both empty = a day off."""

    def __init__(self, *args, week=None, **kwargs):
        if week is not None and "data" not in kwargs and not args:
            kwargs["initial"] = {
                f"{code}_{part}": value
                for (code, _label), hours in zip(WEEKDAYS, week, strict=True)
                if hours
                for part, value in zip(("start", "end"), hours, strict=True)
            }
        super().__init__(*args, **kwargs)
        for code, label in WEEKDAYS:
            self.fields[f"{code}_start"] = forms.TimeField(
                label=_("%(day)s, start") % {"day": label}, required=False, widget=TIME_WIDGET
            )
            self.fields[f"{code}_end"] = forms.TimeField(
                label=_("%(day)s, end") % {"day": label}, required=False, widget=TIME_WIDGET
            )

    def rows(self):
        return [(label, self[f"{code}_start"], self[f"{code}_end"]) for code, label in WEEKDAYS]

    def clean(self):
        data = super().clean()
        week = []
        for code, _label in WEEKDAYS:
            start, end = data.get(f"{code}_start"), data.get(f"{code}_end")
            if f"{code}_start" in self.errors or f"{code}_end" in self.errors:
                week.append(None)
                continue
            if start is None and end is None:
                week.append(None)
            elif start is None:
                self.add_error(f"{code}_start", _("Set the start too, or clear the end for a day off."))
            elif end is None:
                self.add_error(f"{code}_end", _("Set the end too, or clear the start for a day off."))
            elif end <= start:
                self.add_error(f"{code}_end", _("The end must be after the start."))
            else:
                week.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
        data["week"] = week
        return data


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "is_working", "start", "end", "note"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "start": TIME_WIDGET,
            "end": TIME_WIDGET,
        }


def _context(request, week_form, day_form) -> dict:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    year = min(max(year, 2000), 2100)
    page = Paginator(CalendarDay.objects.filter(date__gte=today.replace(month=1, day=1)), 50).get_page(
        request.GET.get("page")
    )
    return {
        "week_form": week_form,
        "day_form": day_form,
        "page_obj": page,
        "overrides": page.object_list,
        "year": year,
        "previous_year": year - 1,
        "next_year": year + 1,
        "public_days": workcalendar.public_days(year),
    }


@require(Action.CHANGE, RESOURCE)
@require_http_methods(["GET", "POST"])
def working_calendar(request):
    week_form = WorkingWeekForm(week=CompanySettings.current().working_week)
    day_form = CalendarDayForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "week":
            week_form = WorkingWeekForm(request.POST)
            if week_form.is_valid():
                try:
                    workcalendar.working_week_set(week_form.cleaned_data["week"])
                except ValidationError as exc:
                    week_form.add_error(None, exc)
                else:
                    messages.success(request, _("The working hours are saved."))
                    return redirect("working_calendar")
        else:
            day_form = CalendarDayForm(request.POST)
            if day_form.is_valid():
                try:
                    workcalendar.calendar_day_save(day_form.instance)
                except ValidationError as exc:
                    day_form.add_error(None, exc)
                else:
                    messages.success(
                        request,
                        _("The day %(date)s is set.") % {"date": f"{day_form.instance.date:%d.%m.%Y}"},
                    )
                    return redirect("working_calendar")
        status = 400
    return render(
        request, "front/working_calendar.html", _context(request, week_form, day_form), status=status
    )


@require(Action.CHANGE, RESOURCE)
@require_POST
def calendar_day_delete(request, pk: int):
    day = get_object_or_404(CalendarDay, pk=pk)
    day.delete()
    messages.success(
        request, _("The day %(date)s follows the calendar again.") % {"date": f"{day.date:%d.%m.%Y}"}
    )
    return redirect("working_calendar")
