"""Forms of the agreement pages: they parse and present; the actions validate and their
field errors are shown next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms

from accord.agreements.models import (
    AgreementKind,
    AgreementStatus,
    ObligationMeasure,
    PartyRole,
)
from accord.core.access import Purpose
from accord.directory.forms import UswdsForm
from accord.directory.models import Role, StaffAttribute
from accord.policy.cedar import ConsentRequirement
from accord.policy.forms import checkboxes, select, text, textarea
from accord.policy.vocabulary import DataCategory, PolicyAction


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"class": "usa-input", "type": "date"})


def _number() -> forms.NumberInput:
    return forms.NumberInput(attrs={"class": "usa-input", "min": 1})


class AgreementFilterForm(UswdsForm):
    q = forms.CharField(
        label="Search agreements",
        required=False,
        max_length=100,
        help_text="Reference or title.",
        widget=text(type="search"),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *AgreementStatus.choices],
        widget=select(),
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *AgreementKind.choices],
        widget=select(),
    )


class AgreementCreateForm(UswdsForm):
    reference = forms.CharField(
        label="Reference number", max_length=40, widget=text(), help_text="For example MOU 2026-04."
    )
    title = forms.CharField(label="Title", max_length=200, widget=text())
    kind = forms.ChoiceField(label="Kind", choices=AgreementKind.choices, widget=select())
    parties = forms.MultipleChoiceField(
        label="Parties",
        help_text="Two or more agencies. Roles and signatories are set next.",
        widget=forms.SelectMultiple(attrs={"class": "usa-select", "size": 8}),
    )
    effective_on = forms.DateField(label="Effective date", widget=_date())
    expires_on = forms.DateField(label="Expiry date", widget=_date())
    review_on = forms.DateField(label="Review date", required=False, widget=_date())
    body = forms.CharField(
        label="Text, with numbered clauses",
        required=False,
        widget=textarea(12),
        help_text="Number each clause at the start of its line (1., 3.2 …): sharing terms "
        "and obligations cite these numbers.",
    )

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parties"].choices = [(str(pk), n) for pk, n in agencies]  # type: ignore[attr-defined]
        self.mark_fields()


class VersionForm(UswdsForm):
    title = forms.CharField(label="Title", max_length=200, widget=text())
    kind = forms.ChoiceField(label="Kind", choices=AgreementKind.choices, widget=select())
    effective_on = forms.DateField(label="Effective date", widget=_date())
    expires_on = forms.DateField(label="Expiry date", widget=_date())
    review_on = forms.DateField(label="Review date", required=False, widget=_date())
    reminder_days = forms.CharField(
        label="Remind the parties this many days before review and expiry",
        max_length=40,
        widget=text(),
        help_text="Comma-separated, e.g. 60,30.",
    )
    change_summary = forms.CharField(
        label="What this version changes", required=False, max_length=300, widget=text()
    )
    body = forms.CharField(label="Text, with numbered clauses", required=False, widget=textarea(16))


class TermForm(UswdsForm):
    clause = forms.CharField(label="Clause", max_length=20, widget=text())
    discloser = forms.TypedChoiceField(label="From (discloser)", coerce=int, widget=select())
    recipient = forms.TypedChoiceField(label="To (recipient)", coerce=int, widget=select())
    recipient_role = forms.ChoiceField(
        label="Only recipients with the role",
        required=False,
        choices=[("", "Any role"), *Role.choices],
        widget=select(),
    )
    categories = forms.MultipleChoiceField(
        label="Categories", choices=DataCategory.choices, widget=checkboxes()
    )
    purposes = forms.MultipleChoiceField(
        label="Purposes", choices=Purpose.choices, widget=checkboxes()
    )
    actions = forms.MultipleChoiceField(
        label="Actions", choices=PolicyAction.choices, widget=checkboxes()
    )
    consent = forms.ChoiceField(
        label="Consent needed", choices=ConsentRequirement.choices, widget=select()
    )
    recipient_attributes = forms.MultipleChoiceField(
        label="Recipients must have",
        required=False,
        choices=StaffAttribute.choices,
        widget=checkboxes(),
    )
    redisclosure_allowed = forms.BooleanField(
        label="The recipient may pass it on",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )
    retention_days = forms.IntegerField(
        label="Kept at most (days)", required=False, widget=_number()
    )

    def __init__(self, *args: Any, parties: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["discloser"].choices = parties  # type: ignore[attr-defined]
        self.fields["recipient"].choices = parties  # type: ignore[attr-defined]
        self.mark_fields()


class ObligationForm(UswdsForm):
    clause = forms.CharField(label="Clause", max_length=20, widget=text())
    party = forms.TypedChoiceField(label="Who must", coerce=int, widget=select())
    counterparty = forms.TypedChoiceField(
        label="Owed to", coerce=int, required=False, empty_value=None, widget=select()
    )
    description = forms.CharField(label="What", max_length=300, widget=text())
    measure = forms.ChoiceField(
        label="Measured as", choices=ObligationMeasure.choices, widget=select()
    )
    subject = forms.CharField(
        label="Event, request or report type",
        required=False,
        max_length=64,
        widget=text(),
        help_text="e.g. booking",
    )
    within_hours = forms.IntegerField(label="Within hours", required=False, widget=_number())
    within_days = forms.IntegerField(label="Within days", required=False, widget=_number())
    every_days = forms.IntegerField(label="Every N days", required=False, widget=_number())
    target_percent = forms.IntegerField(
        label="Target (% on time)", initial=95, min_value=1, max_value=100, widget=_number()
    )

    def __init__(self, *args: Any, parties: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = parties  # type: ignore[attr-defined]
        self.fields["counterparty"].choices = [("", "Nobody in particular"), *parties]  # type: ignore[attr-defined]
        self.mark_fields()


class StepForm(UswdsForm):
    level = forms.CharField(
        label="Who takes it up",
        max_length=120,
        widget=text(),
        help_text="e.g. Supervisors of both agencies",
    )
    within_days = forms.IntegerField(label="Within days", required=False, widget=_number())
    description = forms.CharField(label="How", required=False, max_length=300, widget=text())


class PartyForm(UswdsForm):
    agency = forms.TypedChoiceField(label="Agency", coerce=int, widget=select())
    role = forms.ChoiceField(label="Role", choices=PartyRole.choices, widget=select())
    signatory = forms.TypedChoiceField(
        label="Authorized signatory", coerce=int, required=False, empty_value=None, widget=select()
    )
    signatory_title = forms.CharField(
        label="Signatory's title", required=False, max_length=120, widget=text()
    )

    def __init__(
        self,
        *args: Any,
        agencies: list[tuple[int, str]],
        people: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = agencies  # type: ignore[attr-defined]
        self.fields["signatory"].choices = [("", "Not named yet"), *people]  # type: ignore[attr-defined]
        self.mark_fields()


class ReasonForm(UswdsForm):
    reason = forms.CharField(label="Reason", max_length=300, widget=text())


class SignForm(UswdsForm):
    confirm = forms.BooleanField(
        label="I have read this version and am authorized to sign it for my agency",
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )
    content_hash = forms.CharField(widget=forms.HiddenInput())


class AttestForm(UswdsForm):
    period_start = forms.DateField(label="From", widget=_date())
    period_end = forms.DateField(label="To", widget=_date())
    met = forms.TypedChoiceField(
        label="Was it met?",
        coerce=lambda v: v == "yes",
        choices=[("yes", "Met"), ("no", "Missed")],
        widget=select(),
    )
    note = forms.CharField(label="Note", required=False, max_length=300, widget=text())
