"""What the exchange with 1C keeps besides the invoices' own sync fields."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseSync(models.Model):
    """One 1C base: when its payments were last read, and whether it refused our login
    (then nothing is sent to it by itself until the base is edited or someone asks)."""

    base = models.OneToOneField(
        "directory.AccountingBase", primary_key=True, on_delete=models.CASCADE, related_name="onec_sync"
    )
    pulled_at = models.DateTimeField(_("payments last read"), null=True, blank=True)
    pull_error = models.TextField(_("last error reading payments"), blank=True)
    refused_at = models.DateTimeField(_("login refused"), null=True, blank=True)
    refusal = models.TextField(_("refusal"), blank=True)

    class Meta:
        verbose_name = _("1C base exchange")
        verbose_name_plural = _("1C base exchanges")

    def __str__(self):
        return str(self.base_id)


class PushClaim(models.Model):
    """An invoice being pushed right now. A second push of the same invoice must not start
    meanwhile: both would find no document in 1C and both would create one."""

    invoice = models.OneToOneField(
        "billing.Invoice", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=32)
    claimed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.invoice_id} @ {self.claimed_at:%H:%M:%S}"
