"""What several apps read about the reference data."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from arenda.directory.models import Driver, DriverPayRate


def pay_rate_on(driver: Driver, when: datetime | date) -> Decimal:
    """The driver's hourly pay valid at ``when`` (a moment, or a day in the company's time
    zone): the rate starting last on or before that day (``DriverPayRate``); before the
    driver's first dated rate, the pay their history held then, else the current pay."""
    day = timezone.localdate(when) if isinstance(when, datetime) else when
    rate = (
        DriverPayRate.objects.filter(driver=driver, valid_from__lte=day)
        .order_by("-valid_from", "-id")
        .values_list("hourly_pay", flat=True)
        .first()
    )
    if rate is not None:
        return rate
    if isinstance(when, datetime):
        try:
            return driver.history.as_of(when).hourly_pay
        except Driver.DoesNotExist:
            pass
    return driver.hourly_pay
