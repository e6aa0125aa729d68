"""API views: thin. Reads are querysets with their relations joined; every write is a
service call (``directory.services.SERVICES``, ``core.user_services``)."""

from django.contrib.auth import authenticate, get_user_model, user_logged_in
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from arenda.api import serializers as s
from arenda.api.filters import UserFilter
from arenda.billing.models import Invoice
from arenda.billing.services import credit_balance
from arenda.bookings import driver_link
from arenda.core import audit, user_services
from arenda.core.roles import PAY_FIELDS, Action, can, can_change_pay, can_see_pay
from arenda.directory import filters
from arenda.directory import models as m
from arenda.directory import services as directory_services
from arenda.directory.services import SERVICES
from arenda.flows import payments


class ServiceViewSet(viewsets.ModelViewSet):
    # Writes go through the model's services with ``by``. A comment, not a docstring, so the
    # schema does not repeat it on every endpoint.

    resource: str
    services: tuple | None = None

    def get_services(self):
        return self.services or SERVICES[self.get_serializer_class().Meta.model]

    def perform_create(self, serializer):
        create, _update, _delete = self.get_services()
        serializer.instance = create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        _create, update, _delete = self.get_services()
        serializer.instance = update(
            instance=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        _create, _update, delete = self.get_services()
        delete(instance=instance, by=self.request.user)


class UserViewSet(ServiceViewSet):
    """People who log in, with their roles. Administrators only."""

    resource = "user"
    queryset = get_user_model().objects.all()
    serializer_class = s.UserSerializer
    services = (user_services.user_create, user_services.user_update, user_services.user_delete)
    filterset_class = UserFilter
    ordering_fields = ["username", "full_name", "role", "date_joined", "last_login"]


class OrganizationViewSet(ServiceViewSet):
    """Our own legal entities: the supplier on invoices."""

    resource = "organization"
    queryset = m.Organization.objects.all()
    serializer_class = s.OrganizationSerializer
    filterset_class = filters.OrganizationFilter
    ordering_fields = ["name", "inn", "created_at"]


class AccountingBaseViewSet(ServiceViewSet):
    """1C infobases that invoices go to. The password is write-only."""

    resource = "accounting_base"
    required_actions = {"sync": "change"}
    queryset = m.AccountingBase.objects.select_related("organization")
    serializer_class = s.AccountingBaseSerializer
    filterset_class = filters.AccountingBaseFilter
    ordering_fields = ["name", "created_at"]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "SyncResult",
                {
                    "pushed": serializers.IntegerField(),
                    "failed": serializers.IntegerField(),
                    "payments": serializers.IntegerField(),
                },
            )
        },
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Push the base's pending and failed invoices to 1C now and read its payments:
        how many went, how many did not, how many payments are new."""
        return Response(payments.sync_base(self.get_object().pk))


class CounterpartyViewSet(ServiceViewSet):
    """Customers. Only an accountant or an administrator sets `accounting_base`."""

    resource = "counterparty"
    queryset = m.Counterparty.objects.select_related("accounting_base")
    serializer_class = s.CounterpartySerializer
    filterset_class = filters.CounterpartyFilter
    ordering_fields = ["name", "inn", "created_at", "updated_at", "payment_terms_days"]

    @extend_schema(
        request=inline_serializer("ApplyCredit", {"invoice": serializers.IntegerField()}),
        responses={
            200: inline_serializer(
                "CreditApplied",
                {
                    "payment": serializers.IntegerField(),
                    "amount": serializers.CharField(),
                    "credit": serializers.CharField(),
                    "invoice_status": serializers.CharField(),
                },
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="apply-credit", url_name="apply-credit")
    def apply_credit(self, request, pk=None):
        """Pay one of the counterparty's invoices from its credit (overpayments): as much as
        the invoice owes and the credit covers."""
        if not can(request.user, Action.ADD, "payment"):
            raise PermissionDenied
        counterparty = self.get_object()
        body = ApplyCreditSerializer(data=request.data, context={"counterparty": counterparty})
        body.is_valid(raise_exception=True)
        recorded = payments.credit_apply(
            counterparty=counterparty, invoice=body.validated_data["invoice"], by=request.user
        )
        return Response(
            {
                "payment": recorded.payment.pk,
                "amount": f"{recorded.payment.amount:.2f}",
                "credit": f"{credit_balance(counterparty):.2f}",
                "invoice_status": recorded.payment.invoice.status,
            }
        )


class ApplyCreditSerializer(serializers.Serializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.all())


class ContactViewSet(ServiceViewSet):
    """People at counterparties."""

    resource = "contact"
    queryset = m.Contact.objects.select_related("counterparty")
    serializer_class = s.ContactSerializer
    filterset_class = filters.ContactFilter
    ordering_fields = ["full_name", "created_at"]


class EquipmentTypeViewSet(ServiceViewSet):
    """Kinds of machines (truck crane, manipulator, excavator …)."""

    resource = "equipment_type"
    queryset = m.EquipmentType.objects.prefetch_related("requirements")
    serializer_class = s.EquipmentTypeSerializer
    filterset_class = filters.EquipmentTypeFilter
    ordering_fields = ["name"]


class SupplierViewSet(ServiceViewSet):
    """Companies whose machines we hire."""

    resource = "supplier"
    queryset = m.Supplier.objects.all()
    serializer_class = s.SupplierSerializer
    filterset_class = filters.SupplierFilter
    ordering_fields = ["name", "created_at"]


class UnitViewSet(ServiceViewSet):
    """Machines, own and suppliers'. `?min_capacity_t=` finds those that lift at least that much."""

    resource = "unit"
    queryset = m.Unit.objects.select_related("equipment_type", "supplier")
    serializer_class = s.UnitSerializer
    filterset_class = filters.UnitFilter
    ordering_fields = ["plate", "name", "capacity_t", "rate_per_hour", "created_at"]


class MaintenanceWindowViewSet(ServiceViewSet):
    """Times the unit cannot be reserved."""

    resource = "maintenance"
    serializer_class = s.MaintenanceWindowSerializer
    ordering_fields = ["start", "end"]
    filterset_class = filters.MaintenanceWindowFilter

    def get_unit(self):
        if not hasattr(self, "_unit"):
            self._unit = get_object_or_404(m.Unit, pk=self.kwargs["unit_id"])
        return self._unit

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return m.MaintenanceWindow.objects.none()
        return self.get_unit().maintenance.all()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "unit_id" in self.kwargs:
            context["unit"] = self.get_unit()
        return context


class DriverViewSet(ServiceViewSet):
    """Drivers and operators (not users). `hourly_pay` is shown only to those who may see
    drivers' pay and changed only by an accountant or an administrator (with
    `hourly_pay_from`, the day it starts); `telegram_chat_id` is bound only by the driver
    opening the invite link (`POST drivers/{id}/invite/`)."""

    resource = "driver"
    required_actions = {"invite": "change", "unlink_messenger": "change", "pay_rates": "view"}
    queryset = m.Driver.objects.select_related("messenger_bound_by")
    serializer_class = s.DriverSerializer
    filterset_class = filters.DriverFilter
    ordering_fields = ["full_name", "hourly_pay", "license_valid_until", "created_at"]

    @extend_schema(
        request=s.DriverInviteRequestSerializer,
        responses={200: s.DriverInviteSerializer},
    )
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """The driver's invite link (made when there is no valid one; `regenerate`: a new
        one, the old stops working). It binds one chat, once, within DRIVER_INVITE_DAYS."""
        body = s.DriverInviteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        driver = driver_link.driver_invite(
            driver=self.get_object(), by=request.user, regenerate=body.validated_data.get("regenerate", False)
        )
        return Response(s.DriverInviteSerializer(driver_link.current_invite(driver)).data)

    @extend_schema(methods=["GET"], request=None, responses={200: s.DriverPayRateSerializer(many=True)})
    @extend_schema(
        methods=["POST"], request=s.DriverPayRateSerializer, responses={201: s.DriverPayRateSerializer}
    )
    @action(detail=True, methods=["get", "post"], url_path="pay-rates", url_name="pay-rates")
    def pay_rates(self, request, pk=None):
        """The driver's dated pay rates, the general ones and those for one equipment type
        (`equipment_type`): a trip on that kind of machine is paid at its rate. Read by who
        may see pay; added (`POST`) by an accountant or an administrator (`403 pay_forbidden`
        otherwise)."""
        driver = self.get_object()
        if request.method == "POST":
            if not can_change_pay(request.user):
                raise s.PayForbidden(
                    sorted(name for name in request.data if name in PAY_FIELDS) or ["hourly_pay"]
                )
            body = s.DriverPayRateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            rate = directory_services.driver_pay_rate_add(
                driver=driver, by=request.user, **body.validated_data
            )
            return Response(s.DriverPayRateSerializer(rate).data, status=status.HTTP_201_CREATED)
        if not can_see_pay(request.user):
            raise PermissionDenied
        rates = driver.pay_rates.select_related("equipment_type").order_by("-valid_from", "-id")
        return Response(s.DriverPayRateSerializer(rates, many=True).data)

    @extend_schema(request=None, responses={200: s.DriverSerializer})
    @action(detail=True, methods=["post"], url_path="unlink-messenger", url_name="unlink-messenger")
    def unlink_messenger(self, request, pk=None):
        """Orders stop going to the driver's chat (an audit event)."""
        driver = driver_link.driver_unlink(driver=self.get_object(), by=request.user)
        return Response(self.get_serializer(driver).data)


class MeView(APIView):
    """The current user and their effective role (a superuser is an admin)."""

    resource = None

    @extend_schema(responses=s.UserSerializer)
    def get(self, request):
        return Response(s.UserSerializer(request.user, context={"request": request}).data)


class TokenView(APIView):
    """Exchanges a username and password for the API token of that user."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.CredentialsSerializer,
        responses={
            200: s.TokenSerializer,
            400: OpenApiResponse(description=_("Bad body, or wrong username or password")),
            429: OpenApiResponse(description=_("Too many failed attempts: locked out for a while")),
        },
        auth=[],
    )
    def post(self, request):
        body = s.CredentialsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(request=django_request, **body.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            # django-axes would replace any response with its HTML lockout page; the API
            # answers in its own JSON shape instead.
            django_request.axes_locked_out = False
            return Response(
                {
                    "detail": _("Too many failed login attempts. Try again later."),
                    "code": "locked_out",
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None:
            return Response(
                {"detail": _("Wrong username or password."), "code": "invalid_credentials"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # A token login is a login: axes forgets the failures, last_login is updated.
        user_logged_in.send(sender=type(user), request=django_request, user=user)
        token, created = Token.objects.get_or_create(user=user)
        if created:
            audit.record(
                audit.Kind.API_TOKEN_ISSUED, by=user, target=user.get_username(), request=django_request
            )
        return Response({"token": token.key})
