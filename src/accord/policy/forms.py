"""Forms of the policy pages: they parse and present; actions and the engine decide. The
field partials and error placement are the directory's (``UswdsForm``, ``show_errors``),
shared so every page of Accord shows errors the same way."""

from __future__ import annotations

from typing import Any

from django import forms

from accord.core.access import Purpose
from accord.directory.forms import UswdsForm, show_errors
from accord.policy.vocabulary import DataCategory, PolicyAction, SensitivityLabel

__all__ = [
    "DisclosureFilterForm",
    "ExplainForm",
    "LiftScreenForm",
    "RecordFilterForm",
    "RecordForm",
    "ScreenForm",
    "checkboxes",
    "select",
    "show_errors",
    "text",
]


def text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "usa-input", **attrs})


def select() -> forms.Select:
    return forms.Select(attrs={"class": "usa-select"})


def checkboxes() -> forms.CheckboxSelectMultiple:
    return forms.CheckboxSelectMultiple(attrs={"class": "usa-checkbox__input"})


def textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"class": "usa-textarea", "rows": rows})


class RecordFilterForm(UswdsForm):
    """The purpose the records are read for, and what to look for (a GET form)."""

    purpose = forms.ChoiceField(
        label="Purpose of use",
        choices=Purpose.choices,
        help_text="Every record shown is disclosed for this purpose and recorded as such.",
        widget=select(),
    )
    q = forms.CharField(
        label="Client",
        required=False,
        max_length=64,
        help_text="Client identifier.",
        widget=text(type="search"),
    )
    category = forms.ChoiceField(
        label="Category",
        required=False,
        choices=[("", "Any category"), *DataCategory.choices],
        widget=select(),
    )


class RecordForm(UswdsForm):
    client_key = forms.CharField(label="Client identifier", max_length=64, widget=text())
    category = forms.ChoiceField(label="Category", choices=DataCategory.choices, widget=select())
    labels = forms.MultipleChoiceField(
        label="Sensitivity labels",
        required=False,
        choices=SensitivityLabel.choices,
        widget=checkboxes(),
    )
    summary = forms.CharField(label="Summary", max_length=300, widget=text())


class ExplainForm(UswdsForm):
    """Who, for what purpose, about which client (and which holder) or which record."""

    subject = forms.TypedChoiceField(
        label="Staff member",
        coerce=int,
        widget=select(),
        help_text="Whose access to explain. You may always explain your own.",
    )
    purpose = forms.ChoiceField(label="Purpose", choices=Purpose.choices, widget=select())
    action = forms.ChoiceField(
        label="Action", choices=PolicyAction.choices, initial=PolicyAction.VIEW, widget=select()
    )
    client_key = forms.CharField(
        label="Client identifier",
        required=False,
        max_length=64,
        widget=text(),
        help_text="Decisions for every category of this client's information held by the "
        "agency below.",
    )
    owner = forms.TypedChoiceField(
        label="Agency holding the information",
        coerce=int,
        required=False,
        empty_value=None,
        widget=select(),
    )
    record = forms.IntegerField(
        label="Or one record (its number)",
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"class": "usa-input"}),
    )

    def __init__(
        self,
        *args: Any,
        subjects: list[tuple[int, str]],
        agencies: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subjects  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", "Choose an agency"), *agencies]  # type: ignore[attr-defined]
        self.mark_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("record") and not (data.get("client_key") and data.get("owner")):
            raise forms.ValidationError(
                "Give a client and the agency holding the information, or a record number."
            )
        return data


class ScreenForm(UswdsForm):
    staff = forms.TypedChoiceField(label="Staff member", coerce=int, widget=select())
    client_key = forms.CharField(label="Client identifier", max_length=64, widget=text())
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        widget=text(),
        help_text="Why this person must not work on or see this client's matters.",
    )

    def __init__(self, *args: Any, staff: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = staff  # type: ignore[attr-defined]
        self.mark_fields()


class LiftScreenForm(UswdsForm):
    reason = forms.CharField(label="Why the screen can be lifted", max_length=300, widget=text())


class DisclosureFilterForm(UswdsForm):
    q = forms.CharField(
        label="Client",
        required=False,
        max_length=64,
        help_text="Client identifier.",
        widget=text(type="search"),
    )
