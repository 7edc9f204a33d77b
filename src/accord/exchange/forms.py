"""Forms of the exchange pages."""

from __future__ import annotations

from typing import Any

from django import forms

from accord.core.access import Purpose
from accord.directory.forms import UswdsForm
from accord.exchange.actions import event_types


def _type_choices() -> list[tuple[str, str]]:
    return [
        (code, f"{title} ({code})")
        for code, title in event_types()
        .order_by("code", "-version")
        .values_list("code", "title")
        .distinct()
    ]


class InboxFilterForm(UswdsForm):
    """Search and filter the inbox (a GET form)."""

    q = forms.CharField(label="Search by event or agency", required=False, max_length=100)
    unread = forms.BooleanField(label="Unread only", required=False)


class SubscriptionForm(UswdsForm):
    """Subscribe to a person (a record your agency holds) or a case."""

    person_record = forms.IntegerField(
        label="Person record number",
        required=False,
        min_value=1,
        help_text="The number of the person record in People (your agency's record).",
    )
    case_reference = forms.CharField(
        label="Case number", required=False, max_length=80, help_text="The court's case number."
    )
    event_types = forms.MultipleChoiceField(
        label="Event types",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to be told of every type.",
    )
    purpose = forms.ChoiceField(label="Purpose", choices=Purpose.choices, initial=Purpose.DEFENSE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = _type_choices()  # type: ignore[attr-defined]


class PreferenceForm(UswdsForm):
    """How you want to be told."""

    email = forms.BooleanField(label="Also send me an e-mail for each notification", required=False)
    quiet_from = forms.TimeField(
        label="Quiet hours from", required=False, help_text="24-hour time, e.g. 22:00"
    )
    quiet_until = forms.TimeField(
        label="Quiet hours until", required=False, help_text="24-hour time, e.g. 07:00"
    )


class FeedUploadForm(UswdsForm):
    """A bulk feed file of the uploader's agency."""

    file = forms.FileField(
        label="Feed file",
        help_text="CSV or JSON lines (.jsonl), up to 5 MB; see the column list below.",
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[("", "By the file name"), ("csv", "CSV"), ("jsonl", "JSON lines")],
        required=False,
    )
