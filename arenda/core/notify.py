"""In-app notifications: the one way services tell a person something happened."""

from arenda.core.models import Notification


def notify(user, text: str, url: str = "") -> Notification | None:
    if user is None or not getattr(user, "is_active", False):
        return None
    return Notification.objects.create(user=user, text=str(text)[:500], url=url)
