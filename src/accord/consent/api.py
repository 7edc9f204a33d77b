"""The consent API (/api/v1/consents): list and read (scope ``consents:read`` for tokens),
record, correct drafts, put in force, revoke, end by event (people only: consent is taken
by staff with the client, not by systems)."""

from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from accord.consent import actions
from accord.consent.models import Consent, ConsentStatus, SignatureMethod, SignerCapacity
from accord.core.access import Purpose, access_object
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, require_scope
from accord.directory.models import AgencyKind
from accord.policy.notices import PART2_NOTICE
from accord.policy.vocabulary import ConsentKind, DataCategory

router = Router(tags=["consents"])
READ = "consents:read"


class ConsentOut(Schema):
    id: int
    kind: str
    status: str
    shown_status: str
    recorded_by_id: int
    client_key: str
    client_name: str
    disclosers: list[int]
    discloser_kinds: list[str]
    information_description: str
    categories: list[str]
    recipients: list[int]
    recipient_kinds: list[str]
    purposes: list[str]
    purpose_description: str
    revocation_statement: str
    expires_on: date | None
    expiry_event: str
    signer_name: str
    signer_capacity: str
    signature_method: str
    signature_evidence: str
    signed_at: datetime | None
    hipaa_redisclosure_statement: bool
    created_at: datetime
    activated_at: datetime | None
    revoked_at: datetime | None
    revocation_method: str
    ended_at: datetime | None
    missing_elements: list[str] = Field(description="42 CFR 2.31(a) elements still missing.")
    part2_notice: str | None = None


class ConsentIn(StrictSchema):
    kind: ConsentKind
    client_key: str = Field(max_length=64)
    client_name: str = ""
    disclosers: list[int] = []
    discloser_kinds: list[AgencyKind] = []
    information_description: str = ""
    categories: list[DataCategory] = []
    recipients: list[int] = []
    recipient_kinds: list[AgencyKind] = []
    purposes: list[Purpose] = []
    purpose_description: str = ""
    revocation_statement: str = ""
    expires_on: date | None = None
    expiry_event: str = ""
    signer_name: str = ""
    signer_capacity: SignerCapacity | None = None
    signature_method: SignatureMethod | None = None
    signature_evidence: str = ""
    signed_at: datetime | None = None
    hipaa_redisclosure_statement: bool = False
    activate: bool = Field(False, description="Put it in force at once (needs every element).")


class ConsentPatch(StrictSchema):
    client_key: str | None = Field(None, max_length=64)
    client_name: str | None = None
    disclosers: list[int] | None = None
    discloser_kinds: list[AgencyKind] | None = None
    information_description: str | None = None
    categories: list[DataCategory] | None = None
    recipients: list[int] | None = None
    recipient_kinds: list[AgencyKind] | None = None
    purposes: list[Purpose] | None = None
    purpose_description: str | None = None
    revocation_statement: str | None = None
    expires_on: date | None = None
    expiry_event: str | None = None
    signer_name: str | None = None
    signer_capacity: SignerCapacity | None = None
    signature_method: SignatureMethod | None = None
    signature_evidence: str | None = None
    signed_at: datetime | None = None
    hipaa_redisclosure_statement: bool | None = None


class ConsentRevokeIn(StrictSchema):
    method: str = Field(max_length=120, description="How the client revoked.")
    note: str = Field("", max_length=300)


class ConsentEndIn(StrictSchema):
    note: str = Field(max_length=300, description="The expiry event that happened.")


class ConsentFilters(Schema):
    client_key: str = ""
    kind: ConsentKind | None = None
    status: ConsentStatus | None = None


def _out(consent: Consent) -> dict[str, Any]:
    from accord.consent.elements import missing_elements

    terms = actions.terms_of(consent)
    return {
        **{
            name: getattr(consent, name)
            for name in (
                "id",
                "kind",
                "status",
                "shown_status",
                "recorded_by_id",
                "client_key",
                "client_name",
                "information_description",
                "purpose_description",
                "revocation_statement",
                "expires_on",
                "expiry_event",
                "signer_name",
                "signer_capacity",
                "signature_method",
                "signature_evidence",
                "signed_at",
                "hipaa_redisclosure_statement",
                "created_at",
                "activated_at",
                "revoked_at",
                "revocation_method",
                "ended_at",
            )
        },
        "disclosers": sorted(a.pk for a in consent.disclosers.all()),
        "discloser_kinds": consent.discloser_kind_list,
        "categories": consent.category_list,
        "recipients": sorted(a.pk for a in consent.recipients.all()),
        "recipient_kinds": consent.recipient_kind_list,
        "purposes": consent.purpose_list,
        "missing_elements": [f"{m.citation}: {m.words}" for m in missing_elements(terms)],
        "part2_notice": PART2_NOTICE if consent.is_part2 else None,
    }


def _values(body: Any, exclude_unset: bool) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=exclude_unset, exclude={"activate"})
    for name in ("signer_capacity", "signature_method"):
        if name in data and data[name] is None:
            data[name] = ""
    return {
        k: (
            list(map(str, v))
            if isinstance(v, list) and k.endswith(("kinds", "categories", "purposes"))
            else v
        )
        for k, v in data.items()
    }


class _ConsentPage(AccordCursorPagination):
    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["results"] = [_out(c) for c in page["results"]]
        return page


@router.get("", response={200: list[ConsentOut], **ERRORS})
@paginate(_ConsentPage)
def list_consents(request: HttpRequest, filters: Query[ConsentFilters]) -> Any:
    actor = require_scope(request, READ)
    consents = Consent.objects.visible_to(actor).prefetch_related("disclosers", "recipients")
    if filters.client_key:
        consents = consents.filter(Q(client_key=filters.client_key.strip()))
    if filters.kind:
        consents = consents.filter(kind=str(filters.kind))
    if filters.status:
        consents = consents.filter(status=str(filters.status))
    return consents


@router.post("", response={201: ConsentOut, **ERRORS})
def create_consent(request: HttpRequest, body: ConsentIn) -> tuple[int, dict[str, Any]]:
    """Record a consent; with ``activate`` it is in force at once, and a Part 2 or
    proceedings consent lacking any 42 CFR 2.31(a) element is refused, naming each."""
    actor = require_scope(request, "consents:write")
    consent = actions.record_consent(
        actor=actor, activate=body.activate, **_values(body, exclude_unset=False)
    )
    return 201, _out(consent)


@router.get("/{consent_id}", response={200: ConsentOut, **ERRORS})
def get_consent(request: HttpRequest, consent_id: int) -> dict[str, Any]:
    actor = require_scope(request, READ)
    return _out(access_object(Consent.objects, actor, consent_id))


@router.patch("/{consent_id}", response={200: ConsentOut, **ERRORS})
def update_consent(request: HttpRequest, consent_id: int, body: ConsentPatch) -> dict[str, Any]:
    """Correct a draft (a consent in force is revoked and recorded anew, never edited)."""
    actor = require_scope(request, "consents:write")
    consent = access_object(Consent.objects, actor, consent_id)
    return _out(actions.update_consent(consent, actor=actor, **_values(body, True)))


@router.post("/{consent_id}/activate", response={200: ConsentOut, **ERRORS})
def activate_consent(request: HttpRequest, consent_id: int) -> dict[str, Any]:
    actor = require_scope(request, "consents:write")
    consent = access_object(Consent.objects, actor, consent_id)
    return _out(actions.activate_consent(consent, actor=actor))


@router.post("/{consent_id}/revoke", response={200: ConsentOut, **ERRORS})
def revoke_consent(request: HttpRequest, consent_id: int, body: ConsentRevokeIn) -> dict[str, Any]:
    """Revoke: effective for every decision after this one; earlier disclosures stay."""
    actor = require_scope(request, "consents:write")
    consent = access_object(Consent.objects, actor, consent_id)
    return _out(actions.revoke_consent(consent, actor=actor, method=body.method, note=body.note))


@router.post("/{consent_id}/end", response={200: ConsentOut, **ERRORS})
def end_consent(request: HttpRequest, consent_id: int, body: ConsentEndIn) -> dict[str, Any]:
    actor = require_scope(request, "consents:write")
    consent = access_object(Consent.objects, actor, consent_id)
    return _out(actions.end_consent(consent, actor=actor, note=body.note))
