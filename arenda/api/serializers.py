"""Serializers of the reference data. They only validate and present: the viewsets hand
``validated_data`` to the services, which write."""

import copy

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.validators import UniqueValidator

from arenda.api.errors import validation_error_data
from arenda.bookings.driver_link import expires_at as invite_expires_at
from arenda.bookings.driver_link import invite_link
from arenda.core.roles import PAY_FIELDS, can_change_pay, can_see_pay
from arenda.directory.models import (
    AccountingBase,
    Contact,
    Counterparty,
    DocumentKind,
    Driver,
    DriverPayRate,
    EquipmentType,
    MaintenanceWindow,
    Organization,
    Supplier,
    Unit,
)
from arenda.directory.services import requirement_rows
from arenda.front.filters import beyond_utc

User = get_user_model()


class BoundedDateTimeField(serializers.DateTimeField):
    """A moment the database can hold. DRF refuses one beyond year 9999 in the company's time
    zone; this also refuses one before year 1 in UTC («0001-01-01» read in Moscow), with DRF's
    own message, naming the field — not a 500 when it is saved or compared."""

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except OverflowError:  # DRF's check of a naive moment made aware (valid_datetime)
            self.fail("overflow")
        if beyond_utc(moment):
            self.fail("overflow")
        return moment


class ModelCleanSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (field validators, ``clean()`` cross-field rules,
    constraints) on an unsaved copy, so that errors name their field at ``is_valid()``, and
    returns the values the model normalised (E.164 phones, Cyrillic plates)."""

    clean_exclude: tuple[str, ...] = ()
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: BoundedDateTimeField,
    }

    class Meta:
        # No DRF unique-together validators: see get_fields.
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            # Uniqueness is the model's to check, on normalised values (a plate typed in
            # Latin letters is the same plate), with a message naming the existing record.
            field.validators = [v for v in field.validators if not isinstance(v, UniqueValidator)]
        return fields

    def candidate(self, attrs):
        if self.instance is None:
            return self.Meta.model(**attrs)
        candidate = copy.copy(self.instance)
        for name, value in attrs.items():
            setattr(candidate, name, value)
        return candidate

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.candidate(attrs)
        try:
            instance.full_clean(exclude=self.clean_exclude)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_error_data(exc))
        return {name: getattr(instance, name) for name in attrs}


class UserSerializer(ModelCleanSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        style={"input_type": "password"},
        trim_whitespace=False,
        help_text=_("Write-only. Required when creating a user; leave out to keep the current one."),
    )
    effective_role = serializers.CharField(read_only=True, allow_null=True)
    clean_exclude = ("password",)

    class Meta(ModelCleanSerializer.Meta):
        model = User
        fields = [
            "id",
            "username",
            "password",
            "full_name",
            "role",
            "effective_role",
            "may_see_driver_pay",
            "is_active",
            "is_superuser",
            "email",
            "phone",
            "last_login",
            "date_joined",
        ]
        read_only_fields = ["is_superuser", "last_login", "date_joined"]

    def validate(self, attrs):
        password = attrs.pop("password", None)
        if self.instance is None and not password:
            raise serializers.ValidationError({"password": [_("Give the new user a password.")]})
        attrs = super().validate(attrs)
        if password:
            attrs["password"] = password
        return attrs


class OrganizationSerializer(ModelCleanSerializer):
    class Meta(ModelCleanSerializer.Meta):
        model = Organization
        fields = [
            "id",
            "name",
            "full_name",
            "inn",
            "kpp",
            "ogrn",
            "address",
            "phone",
            "email",
            "bank_name",
            "bik",
            "corr_account",
            "account",
            "director",
            "accountant",
            "vat_rate",
            "closing_form",
            "default_accounting_base",
            "is_active",
            "created_at",
            "updated_at",
        ]


class AccountingBaseSerializer(ModelCleanSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("Write-only; never returned. Empty or left out keeps the stored one."),
    )
    has_password = serializers.SerializerMethodField()
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta(ModelCleanSerializer.Meta):
        model = AccountingBase
        fields = [
            "id",
            "name",
            "organization",
            "organization_name",
            "kind",
            "odata_url",
            "username",
            "password",
            "has_password",
            "wants_invoice_facture",
            "is_active",
            "created_at",
            "updated_at",
        ]

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)


class CounterpartySerializer(ModelCleanSerializer):
    accounting_base_name = serializers.CharField(
        source="accounting_base.name", read_only=True, allow_null=True, default=None
    )

    class Meta(ModelCleanSerializer.Meta):
        model = Counterparty
        fields = [
            "id",
            "kind",
            "name",
            "full_name",
            "inn",
            "kpp",
            "ogrn",
            "address",
            "phone",
            "email",
            "bank_name",
            "bik",
            "account",
            "corr_account",
            "accounting_base",
            "accounting_base_name",
            "prepayment_required",
            "payment_terms_days",
            "acts_period",
            "notes",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "accounting_base": {"help_text": _("Only an accountant or an administrator may set it.")},
            # The model limits it by a check constraint, whose error would not name the field.
            "payment_terms_days": {"max_value": 365},
        }


class ContactSerializer(ModelCleanSerializer):
    counterparty_name = serializers.CharField(source="counterparty.name", read_only=True)

    class Meta(ModelCleanSerializer.Meta):
        model = Contact
        fields = [
            "id",
            "counterparty",
            "counterparty_name",
            "full_name",
            "phone",
            "email",
            "position",
            "created_at",
            "updated_at",
        ]


class RequirementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    category = serializers.CharField(max_length=5, required=False, allow_blank=True, default="")


class EquipmentTypeSerializer(ModelCleanSerializer):
    """``requirements``: the documents a driver of this type must hold (``category`` blank:
    any); writing it replaces the list, leaving it out keeps it."""

    requirements = RequirementSerializer(many=True, required=False)

    class Meta(ModelCleanSerializer.Meta):
        model = EquipmentType
        fields = ["id", "name", "description", "requirements", "created_at", "updated_at"]

    def validate(self, attrs):
        requirements = attrs.pop("requirements", None)
        attrs = super().validate(attrs)
        if requirements is not None:
            try:
                requirement_rows(requirements)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(validation_error_data(exc))
            attrs["requirements"] = requirements
        return attrs


class SupplierSerializer(ModelCleanSerializer):
    class Meta(ModelCleanSerializer.Meta):
        model = Supplier
        fields = [
            "id",
            "name",
            "inn",
            "phone",
            "email",
            "contact_person",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ]


class UnitSerializer(ModelCleanSerializer):
    equipment_type_name = serializers.CharField(source="equipment_type.name", read_only=True)
    supplier_name = serializers.CharField(
        source="supplier.name", read_only=True, allow_null=True, default=None
    )

    class Meta(ModelCleanSerializer.Meta):
        model = Unit
        fields = [
            "id",
            "equipment_type",
            "equipment_type_name",
            "name",
            "capacity_t",
            "plate",
            "owner",
            "supplier",
            "supplier_name",
            "rate_per_hour",
            "rate_per_km",
            "min_hours",
            "has_hour_meter",
            "tracker_provider",
            "tracker_id",
            "is_active",
            "notes",
            "created_at",
            "updated_at",
        ]
        # the admin links trackers on the unit's page (docs/telematics.md)
        read_only_fields = ["tracker_provider", "tracker_id"]


class MaintenanceWindowSerializer(ModelCleanSerializer):
    """The unit comes from the URL (``units/{unit_id}/maintenance/``)."""

    class Meta(ModelCleanSerializer.Meta):
        model = MaintenanceWindow
        fields = ["id", "unit", "start", "end", "reason", "created_at", "updated_at"]
        read_only_fields = ["unit"]

    def validate(self, attrs):
        if self.instance is None:
            attrs["unit"] = self.context["unit"]
        return super().validate(attrs)


class PayFieldsMixin:
    """Drivers' pay (``core.roles.PAY_FIELDS``) is absent for whoever may not see it, read-only
    for whoever sees but may not change it, and sending it without the right answers 403
    ``pay_forbidden`` naming the field (docs/permissions.md, «Drivers' pay»)."""

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _schema(self) -> bool:
        """The OpenAPI schema describes every field; a real answer only the user's."""
        return bool(getattr(self.context.get("view"), "swagger_fake_view", False))

    def get_fields(self):
        fields = super().get_fields()
        if self._schema():
            return fields
        user = self._user()
        for name in [n for n in fields if n in PAY_FIELDS]:
            if not can_see_pay(user):
                del fields[name]
            elif not can_change_pay(user):
                fields[name].read_only = True
        return fields

    def to_internal_value(self, data):
        if not self._schema() and not can_change_pay(self._user()) and hasattr(data, "keys"):
            sent = sorted(name for name in data if name in PAY_FIELDS)
            if sent:
                raise PayForbidden(sent)
        return super().to_internal_value(data)


class PayForbidden(exceptions.PermissionDenied):
    """403 ``pay_forbidden``, naming the pay fields sent (``fields``)."""

    def __init__(self, fields: list[str]):
        super().__init__(
            {
                "detail": _("Only an accountant or an administrator may change a driver's pay (%(fields)s).")
                % {"fields": ", ".join(fields)},
                "code": "pay_forbidden",
                "fields": fields,
            }
        )


class DriverSerializer(PayFieldsMixin, ModelCleanSerializer):
    hourly_pay_from = serializers.DateField(
        write_only=True,
        required=False,
        help_text=_(
            "The day a new hourly_pay starts (company time zone); today when left out. An "
            "earlier day must be given explicitly. Accountant and administrator only."
        ),
    )
    messenger_bound_at = serializers.DateTimeField(read_only=True, allow_null=True)
    messenger_bound_by = serializers.SerializerMethodField()

    class Meta(ModelCleanSerializer.Meta):
        model = Driver
        fields = [
            "id",
            "full_name",
            "phone",
            "employment",
            "hourly_pay",
            "hourly_pay_from",
            "license_number",
            "license_valid_until",
            "email",
            "preferred_channel",
            "telegram_chat_id",
            "max_user_id",
            "messenger_bound_at",
            "messenger_bound_by",
            "is_active",
            "notes",
            "created_at",
            "updated_at",
        ]
        # bound only by the driver opening the invite link (POST drivers/{id}/invite/)
        read_only_fields = ["telegram_chat_id", "max_user_id"]

    def get_messenger_bound_by(self, obj) -> str | None:
        """Who issued the invite link the driver bound their chat with."""
        return str(obj.messenger_bound_by) if obj.messenger_bound_by_id else None

    def validate(self, attrs):
        valid_from = attrs.pop("hourly_pay_from", None)
        attrs = super().validate(attrs)
        if valid_from is not None:
            attrs["hourly_pay_from"] = valid_from
        return attrs


class DriverPayRateSerializer(serializers.ModelSerializer):
    """A dated pay rate; ``equipment_type`` set: for trips on that kind of machine only."""

    valid_from = serializers.DateField(
        required=False, help_text=_("Today (company time zone) when left out.")
    )
    equipment_type = serializers.PrimaryKeyRelatedField(queryset=EquipmentType.objects.all())
    equipment_type_name = serializers.CharField(
        source="equipment_type.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = DriverPayRate
        fields = ["id", "hourly_pay", "valid_from", "equipment_type", "equipment_type_name", "created_at"]
        read_only_fields = ["created_at"]


class DriverInviteRequestSerializer(serializers.Serializer):
    regenerate = serializers.BooleanField(required=False, default=False)


class DriverInviteSerializer(serializers.Serializer):
    link = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.SerializerMethodField()
    issued_by = serializers.SerializerMethodField()

    def get_link(self, invite) -> str:
        return invite_link(invite.driver)

    def get_expires_at(self, invite) -> str:
        return serializers.DateTimeField().to_representation(invite_expires_at(invite))

    def get_issued_by(self, invite) -> str | None:
        return str(invite.issued_by) if invite.issued_by_id else None


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
