"""API of leads, the intake webhook, deals with their lines and comments, and intake
tokens (``docs/api.md``). Thin: serializers validate and present, ``arenda.crm.services`` writes."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from arenda.api.errors import validation_error_data
from arenda.api.serializers import BoundedDateTimeField, ModelCleanSerializer
from arenda.core.models import User
from arenda.core.money import to_money, vat_included
from arenda.core.network import client_address
from arenda.core.services import record_delete, record_update
from arenda.crm import services
from arenda.crm.filters import DealFilter, IntakeTokenFilter, LeadFilter
from arenda.crm.intake import INTAKE_SOURCES, call_event_request, rate_limit_wait
from arenda.crm.models import CHAT_FIELDS, Deal, DealComment, DealLine, IntakeToken, Lead, LeadMessage
from arenda.crm.proposal import proposal_version, render_proposal_pdf, valid_until
from arenda.crm.tokens import intake_token_accepts, intake_token_create, intake_token_revoke
from arenda.directory.models import Counterparty, Organization
from arenda.flows import deals

# --- intake ---------------------------------------------------------------------------------


class IntakeRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    message = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    inn = serializers.CharField(max_length=12, required=False, allow_blank=True)
    company = serializers.CharField(max_length=300, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CallEventSerializer(serializers.Serializer):
    """A PBX's call event; ``from``/``to`` are accepted for ``caller``/``called``."""

    event = serializers.ChoiceField(choices=["incoming", "missed", "completed"])
    call_id = serializers.CharField(max_length=150)
    caller = serializers.CharField(max_length=40)
    called = serializers.CharField(max_length=40, required=False, allow_blank=True)
    started_at = BoundedDateTimeField(required=False, allow_null=True)
    duration = serializers.IntegerField(min_value=0, max_value=7 * 24 * 3600, required=False, allow_null=True)
    recording_url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            data = data.dict() if hasattr(data, "dict") else dict(data)
            for alias, name in (("from", "caller"), ("to", "called")):
                if alias in data and name not in data:
                    data[name] = data.pop(alias)
        return super().to_internal_value(data)


class IntakeView(APIView):
    """A request from a website form, a PBX or another system. No login: the header
    `X-Intake-Token` carries a token for this source. See docs/intake.md."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=IntakeRequestSerializer,
        parameters=[OpenApiParameter("X-Intake-Token", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={
            201: inline_serializer(
                "IntakeAnswer", {"lead": serializers.IntegerField(), "created": serializers.BooleanField()}
            ),
            200: OpenApiResponse(description=_("Joined the open lead of the same phone")),
            400: OpenApiResponse(description=_("Bad body")),
            401: OpenApiResponse(description=_("No token")),
            403: OpenApiResponse(description=_("Wrong or revoked token")),
            404: OpenApiResponse(description=_("Unknown source")),
            429: OpenApiResponse(description=_("Too many requests: see Retry-After")),
        },
        auth=[],
    )
    def post(self, request, source):
        if source not in INTAKE_SOURCES:
            raise NotFound(_("Unknown source."))
        wait = rate_limit_wait(source, client_address(request))
        if wait:
            return Response(
                {"detail": _("Too many requests. Try again later."), "code": "throttled"},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        plain = request.headers.get("X-Intake-Token", "")
        if not plain:
            return Response(
                {"detail": _("Send the intake token in X-Intake-Token."), "code": "not_authenticated"},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "X-Intake-Token"},
            )
        if not intake_token_accepts(plain, source):
            return Response(
                {"detail": _("The intake token is wrong or revoked."), "code": "permission_denied"},
                status=status.HTTP_403_FORBIDDEN,
            )
        try:
            data = request.data
        except RecursionError:  # JSON nested thousands deep
            raise ParseError(_("The body is nested too deeply."))
        if source == Lead.Source.PHONE and isinstance(data, Mapping) and "event" in data:
            return self._call(data)
        body = IntakeRequestSerializer(data=data)
        body.is_valid(raise_exception=True)
        return self._receive(source, **body.validated_data)

    def _call(self, data):
        body = CallEventSerializer(data=data)
        body.is_valid(raise_exception=True)
        try:
            return self._receive(Lead.Source.PHONE, **call_event_request(body.validated_data))
        except DjangoValidationError as exc:
            errors = validation_error_data(exc)
            if "phone" in errors:
                errors["caller"] = errors.pop("phone")
            raise serializers.ValidationError(errors)

    def _receive(self, source, **fields):
        got = services.intake_receive(source=source, **fields)
        return Response(
            {"lead": got.lead.pk, "created": got.created},
            status=status.HTTP_201_CREATED if got.created else status.HTTP_200_OK,
        )


# --- leads ----------------------------------------------------------------------------------


class LeadMessageSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, default=None)

    class Meta:
        model = LeadMessage
        fields = [
            "id",
            "direction",
            "channel",
            "text",
            "author",
            "author_name",
            "recording_url",
            "delivery_status",
            "created_at",
        ]
        read_only_fields = fields


class LeadSerializer(ModelCleanSerializer):
    manager = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    manager_name = serializers.CharField(source="manager.full_name", read_only=True, default=None)
    counterparty_name = serializers.CharField(source="counterparty.name", read_only=True, default=None)
    response_seconds = serializers.SerializerMethodField(
        help_text=_("Seconds from the request to the first response; null while unanswered.")
    )
    # The manager goes through lead_assign (it must be an active manager, who is told).
    clean_exclude = ("manager",)

    class Meta(ModelCleanSerializer.Meta):
        model = Lead
        fields = [
            "id",
            "source",
            "status",
            "name",
            "phone",
            "email",
            "inn",
            "company",
            "message",
            "telegram_chat_id",
            "max_chat_id",
            "vk_peer_id",
            "avito_chat_id",
            "ad_title",
            "ad_url",
            "manager",
            "manager_name",
            "counterparty",
            "counterparty_name",
            "contact",
            "deal",
            "junk_reason",
            "first_response_at",
            "response_seconds",
            "last_message_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "source",
            "status",
            "phone",
            "inn",
            "message",
            "telegram_chat_id",
            "max_chat_id",
            "vk_peer_id",
            "avito_chat_id",
            "ad_title",
            "ad_url",
            "counterparty",
            "contact",
            "deal",
            "junk_reason",
            "first_response_at",
            "last_message_at",
            "created_at",
            "updated_at",
        ]

    def get_response_seconds(self, obj) -> int | None:
        delay = obj.response_time
        return None if delay is None else int(delay.total_seconds())


class LeadDetailSerializer(LeadSerializer):
    messages = LeadMessageSerializer(many=True, read_only=True)

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "messages"]


class LeadCreateSerializer(IntakeRequestSerializer):
    """A request typed in by a user: the same de-duplication as every channel."""

    external_id = None


class LeadReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    channel = serializers.ChoiceField(
        choices=sorted(CHAT_FIELDS),
        required=False,
        help_text=_("The messenger to answer in (default: the one the customer last wrote from)."),
    )


class LeadQualifySerializer(serializers.Serializer):
    counterparty = serializers.PrimaryKeyRelatedField(queryset=Counterparty.objects.all(), required=False)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class LeadViewSet(viewsets.ModelViewSet):
    """Requests from every channel. Creating one here is manual entry: a phone that has an
    open lead joins it (`200`)."""

    resource = "lead"
    required_actions = {"take": "change", "reply": "change", "qualify": "change", "reject": "change"}
    queryset = Lead.objects.select_related("manager", "counterparty")
    filterset_class = LeadFilter
    ordering_fields = ["created_at", "last_message_at", "status"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list":
            return qs
        return qs.prefetch_related(
            Prefetch("messages", queryset=LeadMessage.objects.select_related("author"))
        )

    def get_serializer_class(self):
        if self.action == "create":
            return LeadCreateSerializer
        return LeadDetailSerializer if self.action == "retrieve" else LeadSerializer

    def _lead(self) -> Lead:
        lead = get_object_or_404(Lead.objects.only("pk"), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, lead)
        return lead

    def _answer(self, lead, code=status.HTTP_200_OK):
        lead = self.get_queryset().get(pk=lead.pk)
        return Response(LeadDetailSerializer(lead, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        request=LeadCreateSerializer, responses={201: LeadDetailSerializer, 200: LeadDetailSerializer}
    )
    def create(self, request, *args, **kwargs):
        body = LeadCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        got = services.intake_receive(source=Lead.Source.MANUAL, by=request.user, **body.validated_data)
        return self._answer(got.lead, status.HTTP_201_CREATED if got.created else status.HTTP_200_OK)

    @transaction.atomic
    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        lead = serializer.instance
        if "manager" in data:
            manager = data.pop("manager")
            if manager != lead.manager:
                lead = services.lead_assign(lead=lead, manager=manager, by=self.request.user)
        serializer.instance = record_update(lead, data=data, by=self.request.user) if data else lead

    def perform_destroy(self, instance):
        record_delete(instance, by=self.request.user)

    @extend_schema(request=None, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        return self._answer(services.lead_take(lead=self._lead(), by=request.user))

    @extend_schema(request=LeadReplySerializer, responses={201: LeadMessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        body = LeadReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = services.lead_reply(
            lead=self._lead(),
            text=body.validated_data["text"],
            by=request.user,
            channel=body.validated_data.get("channel", ""),
        )
        return Response(LeadMessageSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LeadQualifySerializer,
        responses={
            201: inline_serializer("Qualified", {"deal": serializers.IntegerField()}),
            200: OpenApiResponse(description=_("Already qualified: the same deal")),
        },
    )
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        body = LeadQualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        got = services.lead_qualify(lead=self._lead(), by=request.user, **body.validated_data)
        return Response(
            {"deal": got.deal.pk}, status=status.HTTP_201_CREATED if got.created else status.HTTP_200_OK
        )

    @extend_schema(request=ReasonSerializer, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lead = services.lead_reject(lead=self._lead(), reason=body.validated_data["reason"], by=request.user)
        return self._answer(lead)


# --- deals ----------------------------------------------------------------------------------


class DealLineSerializer(ModelCleanSerializer):
    """The deal comes from the URL (``deals/{deal_id}/lines/``)."""

    equipment_type_name = serializers.CharField(source="equipment_type.name", read_only=True)
    hours_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    km_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta(ModelCleanSerializer.Meta):
        model = DealLine
        fields = [
            "id",
            "deal",
            "position",
            "equipment_type",
            "equipment_type_name",
            "min_capacity_t",
            "start",
            "end",
            "ordered_hours",
            "min_hours",
            "rate_per_hour",
            "km",
            "rate_per_km",
            "site_address",
            "notes",
            "hours_amount",
            "km_amount",
            "amount",
        ]
        read_only_fields = ["deal"]
        extra_kwargs = {"position": {"required": False}}

    def validate(self, attrs):
        if self.instance is None:
            attrs["deal"] = self.context["deal"]
        return super().validate(attrs)


def _default_organization(context: dict):
    """The legal entity that sells when a deal names none (the first active one), read once
    per request."""
    if "default_organization" not in context:
        context["default_organization"] = Organization.objects.default()
    return context["default_organization"]


class DealSerializer(ModelCleanSerializer):
    counterparty_name = serializers.CharField(source="counterparty.name", read_only=True)
    manager_name = serializers.CharField(source="manager.full_name", read_only=True, default=None)
    lines = DealLineSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField(help_text=_("Sum of the lines, VAT included."))
    vat_rate = serializers.SerializerMethodField(
        help_text=_('Of the deal\'s legal entity (or the default one); "none" when not a VAT payer.')
    )
    vat_amount = serializers.SerializerMethodField(help_text=_("VAT inside the total; null without VAT."))
    # Stage moves go through deal_move, which explains a refused one and asks for the reason.
    clean_exclude = ("stage", "lost_reason")

    class Meta(ModelCleanSerializer.Meta):
        model = Deal
        fields = [
            "id",
            "title",
            "counterparty",
            "counterparty_name",
            "contact",
            "organization",
            "manager",
            "manager_name",
            "stage",
            "lost_reason",
            "proposal_valid_until",
            "agreed_at",
            "agreed_by_customer",
            "lines",
            "total",
            "vat_rate",
            "vat_amount",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["agreed_at", "agreed_by_customer", "created_at", "updated_at"]
        extra_kwargs = {"stage": {"required": False}}

    def get_total(self, obj) -> str:
        return str(to_money(sum((line.amount for line in obj.lines.all()), start=0)))

    def _vat_rate(self, obj) -> str:
        organization = obj.organization or _default_organization(self.context)
        return organization.vat_rate if organization else "none"

    def get_vat_rate(self, obj) -> str:
        return self._vat_rate(obj)

    def get_vat_amount(self, obj) -> str | None:
        vat = vat_included(self.get_total(obj), self._vat_rate(obj))
        return None if vat is None else str(vat)


class DealCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, default=None)

    class Meta:
        model = DealComment
        fields = ["id", "text", "author", "author_name", "created_at"]
        read_only_fields = ["author", "created_at"]


class AgreeSerializer(serializers.Serializer):
    version = serializers.CharField(
        max_length=64,
        required=False,
        help_text=_(
            "The proposal's version the agreement is for (from proposal-link): 409 proposal_changed when the proposal has changed since."
        ),
    )


class ProposalLinkSerializer(serializers.Serializer):
    url = serializers.URLField(
        help_text=_("The customer's link: the proposal, to view and accept without logging in.")
    )
    valid_until = serializers.DateField()
    version = serializers.CharField(help_text=_("The proposal's version as it stands."))


class DealViewSet(viewsets.ModelViewSet):
    """Rental deals. `stage` moves along the funnel (refused moves: `409
    stage_move_refused`, `no_lines`, `active_bookings`, `work_not_done`); `lost` needs
    `lost_reason`."""

    resource = "deal"
    required_actions = {"agree": "change", "proposal_link": "change"}
    queryset = Deal.objects.select_related("counterparty", "manager", "organization").prefetch_related(
        Prefetch("lines", queryset=DealLine.objects.select_related("equipment_type"))
    )
    serializer_class = DealSerializer
    filterset_class = DealFilter
    ordering_fields = ["created_at", "title", "stage"]

    def perform_create(self, serializer):
        serializer.instance = services.deal_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = deals.deal_update(
            instance=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        record_delete(instance, by=self.request.user)

    def _deal(self) -> Deal:
        deal = get_object_or_404(Deal.objects.only("pk"), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, deal)
        return deal

    @extend_schema(
        request=AgreeSerializer,
        responses={
            201: inline_serializer(
                "Agreed", {"bookings": serializers.ListField(child=serializers.IntegerField())}
            ),
            200: OpenApiResponse(description=_("Already agreed: the same bookings")),
        },
    )
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def agree(self, request, pk=None):
        body = AgreeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Locked here to tell a first agreement (201) from a repeated one (200) exactly.
        deal = Deal.objects.select_for_update().get(pk=self._deal().pk)
        first = deal.agreed_at is None
        deals.deal_agree(deal=deal, by=request.user, version=body.validated_data.get("version"))
        bookings = list(deal.bookings.order_by("pk").values_list("pk", flat=True))
        return Response(
            {"bookings": bookings}, status=status.HTTP_201_CREATED if first else status.HTTP_200_OK
        )

    @extend_schema(request=None, responses=ProposalLinkSerializer)
    @action(detail=True, methods=["post"], url_path="proposal-link")
    def proposal_link(self, request, pk=None):
        """The customer's link to the proposal, made on first use."""
        deal = services.proposal_offer(deal=self._deal())
        url = request.build_absolute_uri(reverse("proposal:page", args=[deal.proposal_token]))
        data = {"url": url, "valid_until": valid_until(deal), "version": proposal_version(deal)}
        return Response(ProposalLinkSerializer(data).data)

    @extend_schema(methods=["GET"], request=None, responses=DealCommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=DealCommentSerializer, responses={201: DealCommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, pk=None):
        deal = self._deal()
        if request.method == "GET":
            comments = deal.comments.select_related("author")
            return Response(DealCommentSerializer(comments, many=True).data)
        body = DealCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = services.deal_comment_add(deal=deal, text=body.validated_data["text"], by=request.user)
        return Response(DealCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class DealLineViewSet(viewsets.ModelViewSet):
    """The lines of a deal; frozen once the proposal is agreed (`409 deal_agreed`)."""

    resource = "deal"
    # Changing a line changes the deal: a manager may, though a manager deletes no deals.
    required_actions = {
        "create": "change",
        "update": "change",
        "partial_update": "change",
        "destroy": "change",
    }
    serializer_class = DealLineSerializer

    def get_deal(self) -> Deal:
        if not hasattr(self, "_deal"):
            self._deal = get_object_or_404(Deal, pk=self.kwargs["deal_id"])
        return self._deal

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DealLine.objects.none()
        return self.get_deal().lines.select_related("equipment_type")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "deal_id" in self.kwargs:
            context["deal"] = self.get_deal()
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("deal")
        serializer.instance = services.deal_line_add(deal=self.get_deal(), by=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = services.deal_line_update(
            line=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.deal_line_delete(line=instance, by=self.request.user)


class DealProposalView(APIView):
    """The commercial proposal (КП) of a deal as a PDF."""

    resource = "deal"

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        deal = get_object_or_404(
            Deal.objects.select_related("counterparty", "contact", "manager", "organization"), pk=pk
        )
        response = HttpResponse(render_proposal_pdf(deal), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="proposal-{deal.pk}.pdf"'
        return response


# --- intake tokens --------------------------------------------------------------------------


class IntakeTokenSerializer(serializers.ModelSerializer):
    created_by_name = serializers.CharField(source="created_by.full_name", read_only=True, default=None)

    class Meta:
        model = IntakeToken
        fields = [
            "id",
            "name",
            "source",
            "prefix",
            "is_active",
            "revoked_at",
            "last_used_at",
            "created_by",
            "created_by_name",
            "created_at",
        ]
        read_only_fields = ["prefix", "is_active", "revoked_at", "last_used_at", "created_by", "created_at"]


class NewIntakeTokenSerializer(IntakeTokenSerializer):
    token = serializers.CharField(read_only=True, help_text=_("Shown this once; only its hash is kept."))

    class Meta(IntakeTokenSerializer.Meta):
        fields = [*IntakeTokenSerializer.Meta.fields, "token"]


class IntakeTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Tokens websites and PBXs send to `intake/{source}/`. The token itself is in the
    answer to `POST` only; revoke one that leaked."""

    resource = "intake_token"
    required_actions = {"revoke": "change"}
    queryset = IntakeToken.objects.select_related("created_by")
    serializer_class = IntakeTokenSerializer
    filterset_class = IntakeTokenFilter
    ordering_fields = ["created_at", "last_used_at", "name"]

    @extend_schema(request=IntakeTokenSerializer, responses={201: NewIntakeTokenSerializer})
    def create(self, request, *args, **kwargs):
        body = IntakeTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, plain = intake_token_create(by=request.user, **body.validated_data)
        token.token = plain
        return Response(NewIntakeTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=IntakeTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = intake_token_revoke(token=self.get_object(), by=request.user)
        return Response(self.get_serializer(token).data)
