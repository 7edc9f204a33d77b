"""Forms of the consent pages; the actions validate (including every 42 CFR 2.31(a)
element) and their field errors are placed next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms

from accord.consent.elements import DEFAULT_REVOCATION_STATEMENT as REVOCATION_STATEMENT
from accord.consent.models import ConsentStatus, SignatureMethod, SignerCapacity
from accord.core.access import Purpose
from accord.directory.forms import UswdsForm
from accord.directory.models import AgencyKind
from accord.policy.forms import checkboxes, select, text, textarea
from accord.policy.vocabulary import ConsentKind, DataCategory

MULTI = {"class": "usa-select", "size": 6}


class ConsentFilterForm(UswdsForm):
    q = forms.CharField(
        label="Client",
        required=False,
        max_length=64,
        help_text="Identifier or name.",
        widget=text(type="search"),
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *ConsentKind.choices],
        widget=select(),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *ConsentStatus.choices],
        widget=select(),
    )


class ConsentForm(UswdsForm):
    """Every element of a written consent, in the order of 42 CFR 2.31(a)."""

    kind = forms.ChoiceField(
        label="Kind of consent",
        choices=ConsentKind.choices,
        widget=select(),
        help_text="A consent for use in proceedings against the client is always its own consent.",
    )
    client_key = forms.CharField(label="Client identifier", max_length=64, widget=text())
    client_name = forms.CharField(
        label="(1) Client's name", required=False, max_length=200, widget=text()
    )
    disclosers = forms.MultipleChoiceField(
        label="(2) Agencies permitted to disclose",
        required=False,
        widget=forms.SelectMultiple(attrs=MULTI),
    )
    discloser_kinds = forms.MultipleChoiceField(
        label="(2) …or every agency of these kinds",
        required=False,
        choices=AgencyKind.choices,
        widget=checkboxes(),
    )
    information_description = forms.CharField(
        label="(3) The information, described specifically", required=False, widget=textarea(3)
    )
    categories = forms.MultipleChoiceField(
        label="(3) Categories of information",
        required=False,
        choices=DataCategory.choices,
        widget=checkboxes(),
    )
    recipients = forms.MultipleChoiceField(
        label="(4) Recipient agencies", required=False, widget=forms.SelectMultiple(attrs=MULTI)
    )
    recipient_kinds = forms.MultipleChoiceField(
        label="(4) …or every agency of these kinds",
        required=False,
        choices=AgencyKind.choices,
        widget=checkboxes(),
    )
    purposes = forms.MultipleChoiceField(
        label="(5) Purposes", required=False, choices=Purpose.choices, widget=checkboxes()
    )
    purpose_description = forms.CharField(
        label="(5) Each purpose, described", required=False, widget=textarea(3)
    )
    revocation_statement = forms.CharField(
        label="(6) The right to revoke, and how",
        required=False,
        widget=textarea(3),
        initial=REVOCATION_STATEMENT,
    )
    expires_on = forms.DateField(
        label="(7) Expires on",
        required=False,
        widget=forms.DateInput(attrs={"class": "usa-input", "type": "date"}),
    )
    expiry_event = forms.CharField(
        label="(7) …or expires on this event", required=False, max_length=300, widget=text()
    )
    signer_name = forms.CharField(
        label="(8) Signed by", required=False, max_length=200, widget=text()
    )
    signer_capacity = forms.ChoiceField(
        label="(8) Signed as",
        required=False,
        choices=[("", "Choose"), *SignerCapacity.choices],
        widget=select(),
    )
    signature_method = forms.ChoiceField(
        label="(8) How it was signed",
        required=False,
        choices=[("", "Choose"), *SignatureMethod.choices],
        widget=select(),
    )
    signature_evidence = forms.CharField(
        label="Signature evidence",
        required=False,
        max_length=300,
        widget=text(),
        help_text="What shows the signature is the signer's (document number, device, witness).",
    )
    signed_at = forms.DateTimeField(
        label="(9) Date and time signed",
        required=False,
        widget=forms.DateTimeInput(
            attrs={"class": "usa-input", "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    hipaa_redisclosure_statement = forms.BooleanField(
        label="The consent states that a HIPAA covered entity receiving the records for "
        "treatment, payment or health care operations may redisclose them as HIPAA permits "
        "(42 CFR 2.31(a)(4)(iii))",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(pk), name) for pk, name in agencies]
        self.fields["disclosers"].choices = choices  # type: ignore[attr-defined]
        self.fields["recipients"].choices = choices  # type: ignore[attr-defined]
        self.mark_fields()

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["disclosers"] = [int(v) for v in data["disclosers"]]
        data["recipients"] = [int(v) for v in data["recipients"]]
        return data


class RevokeForm(UswdsForm):
    method = forms.CharField(
        label="How the client revoked",
        max_length=120,
        widget=text(),
        help_text="In writing, by phone to staff, in person …",
    )
    note = forms.CharField(label="Note", required=False, max_length=300, widget=text())


class EndForm(UswdsForm):
    note = forms.CharField(
        label="What happened",
        max_length=300,
        widget=text(),
        help_text="The expiry event, with its date.",
    )
