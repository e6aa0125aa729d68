"""The bell in the header: unread count and the latest notifications, loaded by HTMX so
that ordinary pages pay nothing for it; opening one marks it read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from arenda.core.models import Notification
from arenda.core.permissions import require_role

RECENT = 10


def _bell(request):
    mine = Notification.objects.filter(user=request.user)
    context = {
        "unread": mine.filter(read_at__isnull=True).count(),
        "recent": list(mine.order_by("-created_at", "-id")[:RECENT]),
    }
    return render(request, "front/_notifications.html#bell", context)


@login_required
def notification_bell(request):
    require_role(request)
    return _bell(request)


@login_required
def notification_open(request, pk):
    """Follow a notification's link; following it is reading it."""
    require_role(request)
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=pk).update(read_at=timezone.now())
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return redirect(url)
    return redirect("dashboard")


@login_required
@require_POST
def notification_read_all(request):
    require_role(request)
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    if request.htmx:
        return _bell(request)
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("dashboard")
