"""Forms of the people pages: they parse and present; the actions validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms

from accord.directory.forms import UswdsForm
from accord.people.models import HitDecision, PartyRole

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def _input(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "usa-input", **attrs})


class RecordFilterForm(UswdsForm):
    q = forms.CharField(
        label="Search", required=False, max_length=200, widget=_input(type="search")
    )


class PartyForm(UswdsForm):
    first_name = forms.CharField(
        label="First name",
        required=False,
        max_length=100,
        help_text="An initial will do",
        widget=_input(autocomplete="off"),
    )
    middle_name = forms.CharField(
        label="Middle name", required=False, max_length=100, widget=_input(autocomplete="off")
    )
    last_name = forms.CharField(
        label="Last name", required=False, max_length=100, widget=_input(autocomplete="off")
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"class": "usa-input", "type": "date"}),
    )
    role = forms.ChoiceField(
        label="Role in the matter",
        required=False,
        choices=[("", "—"), *PartyRole.choices],
        widget=forms.Select(attrs={"class": "usa-select"}),
    )

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(k) for k in ("first_name", "middle_name", "last_name"))


PartyFormSet = forms.formset_factory(PartyForm, extra=4, max_num=20, absolute_max=20)


class ConflictCheckForm(UswdsForm):
    reference = forms.CharField(
        label="Matter",
        required=False,
        max_length=120,
        help_text="The case number or intake reference being checked",
        widget=_input(),
    )
    parties_file = forms.FileField(
        label="Or upload a party list (CSV)",
        required=False,
        help_text="Columns: first_name, middle_name, last_name, date_of_birth (YYYY-MM-DD), "
        "role. Rows with a problem are listed and the rest are checked.",
        widget=forms.ClearableFileInput(attrs={"class": "usa-file-input", "accept": ".csv"}),
    )

    def clean_parties_file(self) -> Any:
        upload = self.cleaned_data.get("parties_file")
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("At most 2 MB (about 20,000 parties).")
        return upload


class HitDecisionForm(UswdsForm):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[c for c in HitDecision.choices if c[0] != HitDecision.OPEN],
        widget=forms.Select(attrs={"class": "usa-select"}),
    )
    note = forms.CharField(
        label="Why",
        required=False,
        max_length=1000,
        help_text="Required to clear a hit",
        widget=forms.Textarea(attrs={"class": "usa-textarea", "rows": 2}),
    )


class ReviewDecisionForm(UswdsForm):
    decision = forms.ChoiceField(
        label="These two records are",
        choices=[("confirmed", "The same person (merge)"), ("split", "Different people")],
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"class": "usa-textarea", "rows": 2}),
    )


class ReasonForm(UswdsForm):
    reason = forms.CharField(
        label="Why",
        max_length=500,
        widget=forms.Textarea(attrs={"class": "usa-textarea", "rows": 2}),
    )
