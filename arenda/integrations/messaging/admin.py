"""The outbox in the admin is for looking (and sending a failed message again): messages
are written only by ``outbox.enqueue`` and changed only by the worker and the webhook."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arenda.core.admin import ReadOnlyAdminMixin, RoleAdminMixin
from arenda.core.roles import Action, can
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, RoleAdminMixin, admin.ModelAdmin):
    resource = "lead"
    list_display = ("id", "channel", "recipient", "short_text", "status", "attempts", "in_doubt", "queued_at")
    list_filter = ("status", "channel", "in_doubt")
    search_fields = ("recipient", "text", "external_id")
    date_hierarchy = "queued_at"
    actions = ["send_again"]

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:60]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_send_again_permission(self, request):
        return can(request.user, Action.CHANGE, self.resource)

    @admin.action(description=_("Send the failed messages again"), permissions=["send_again"])
    def send_again(self, request, queryset):
        for message in queryset.filter(status=OutboxMessage.Status.FAILED):
            outbox.retry(message)
