from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "arenda.bookings"
    label = "bookings"
    verbose_name = _("Bookings")

    def ready(self):
        # Drivers bind their Telegram chat with /start drv_<token>; their messages are not leads.
        from arenda.bookings import dispatch

        dispatch.register()
