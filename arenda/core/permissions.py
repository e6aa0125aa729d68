"""Enforcing the permission matrix (core.roles) in the API and in the UI views."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework import permissions

from arenda.core.roles import Action, can, role_of

METHOD_ACTIONS = {
    "GET": Action.VIEW,
    "HEAD": Action.VIEW,
    "OPTIONS": Action.VIEW,
    "POST": Action.ADD,
    "PUT": Action.CHANGE,
    "PATCH": Action.CHANGE,
    "DELETE": Action.DELETE,
}


class RolePermission(permissions.BasePermission):
    """Checks ``view.resource`` against the matrix. A view may name the action of a
    custom ``@action`` with ``required_actions = {"sync": "change"}``; a view with
    ``resource = None`` needs only an authenticated user with a role."""

    def has_permission(self, request, view):
        if role_of(request.user) is None:
            return False
        resource = getattr(view, "resource", None)
        if resource is None:
            return True
        action = getattr(view, "required_actions", {}).get(getattr(view, "action", None))
        if action is None:
            action = METHOD_ACTIONS.get(request.method, Action.CHANGE)
        return can(request.user, action, resource)


def require(action: str, resource: str):
    """Decorator for UI views: login required, then the matrix."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, action, resource):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_role(request):
    """Any logged-in user with a role (the dashboard, notifications)."""
    if role_of(request.user) is None:
        raise PermissionDenied
