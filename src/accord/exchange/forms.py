"""Forms of the exchange pages."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms

from accord.core.access import DEFAULT_PURPOSE, Purpose
from accord.core.actors import Actor
from accord.directory.forms import UswdsForm
from accord.exchange.actions import event_types
from accord.exchange.importer import FORMAT_BY_SUFFIX
from accord.exchange.models import EmailMode
from accord.people.models import PersonRecord


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


# The purposes staff of an agency kind may subscribe for besides its default one
# (``core.access.DEFAULT_PURPOSE``, offered first). A subscription asks; the agreement's term
# for that purpose (and the client's consent where the term needs it) decides each event,
# so offering a purpose grants nothing.
MORE_SUBSCRIPTION_PURPOSES: dict[str, tuple[str, ...]] = {
    "service_provider": (Purpose.SERVICES,),
    "coordinating_council": (Purpose.AUDIT,),
}

# The picker lists at most this many of the agency's people; any other record is typed in.
PICKER_LIMIT = 500


def subscription_purposes(actor: Actor) -> list[tuple[str, str]]:
    """The purposes offered to ``actor``: those of their agency's kind, else every one."""
    kind = str(actor.attributes.get("agency_kind"))
    if kind not in DEFAULT_PURPOSE:
        return list(Purpose.choices)
    labels = dict(Purpose.choices)
    codes = (DEFAULT_PURPOSE[kind], *MORE_SUBSCRIPTION_PURPOSES.get(kind, ()))
    return [(code, labels[code]) for code in codes]


def people_to_pick(actor: Actor) -> list[tuple[int, str]]:
    """The agency's own person records (its clients), by name, for the picker."""
    rows = (
        PersonRecord.objects.visible_to(actor)
        .filter(agency_id=actor.agency_id or 0)
        .order_by("last_name", "first_name", "pk")
        .values_list("pk", "last_name", "first_name", "date_of_birth", "source_id")[:PICKER_LIMIT]
    )
    return [
        (pk, f"{last}, {first}" + (f" ({born:%Y-%m-%d})" if born else "") + f" · {source}")
        for pk, last, first, born, source in rows
    ]


class SubscriptionForm(UswdsForm):
    """Subscribe to a person (a record your agency holds) or a case, for a purpose of your
    agency's kind."""

    person_record = forms.IntegerField(
        label="Person",
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"list": "people-to-pick", "class": "usa-input"}),
        help_text=(
            "One of your agency's people (your clients): pick from the list or type the "
            "record number from People."
        ),
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
    purpose = forms.ChoiceField(
        label="Purpose",
        choices=Purpose.choices,
        help_text=(
            "Why you need to know; it must be a purpose your agreement names. Each event is "
            "still decided by the agreement and, where it needs one, the client's consent."
        ),
    )

    def __init__(self, *args: Any, actor: Actor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = _type_choices()  # type: ignore[attr-defined]
        self.people: list[tuple[int, str]] = []
        if actor is not None:
            purposes = subscription_purposes(actor)
            self.fields["purpose"].choices = purposes  # type: ignore[attr-defined]
            self.fields["purpose"].initial = purposes[0][0]
            self.people = people_to_pick(actor)


class PreferenceForm(UswdsForm):
    """How you want to be told."""

    email_mode = forms.ChoiceField(
        label="E-mail",
        choices=EmailMode.choices,
        initial=EmailMode.NONE,
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
    digest_hour = forms.TypedChoiceField(
        label="Send the daily digest at",
        choices=[("", "—")] + [(str(h), f"{h:02d}:00") for h in range(24)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "usa-select"}),
        help_text="In the office's time zone. Needed for the daily digest.",
    )
    quiet_from = forms.TimeField(
        label="Quiet hours from", required=False, help_text="24-hour time, e.g. 22:00"
    )
    quiet_until = forms.TimeField(
        label="Quiet hours until", required=False, help_text="24-hour time, e.g. 07:00"
    )
    phone = forms.CharField(
        label="Mobile number for text messages",
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"class": "usa-input", "type": "tel", "autocomplete": "tel"}),
        help_text="International format, e.g. +13125550123.",
    )
    sms_custody = forms.BooleanField(
        label="Text me when a custody event arrives (the text says only that one arrived)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )


# Content types a browser or client may give an XML file, and those that say nothing.
XML_TYPES = {"application/xml", "text/xml"}
UNSPECIFIC_TYPES = {"", "application/octet-stream", "text/plain"}


class FeedUploadForm(UswdsForm):
    """A bulk feed file of the uploader's agency; ``format`` is resolved from the file name
    when not chosen, and an XML content type must agree with the format."""

    file = forms.FileField(
        label="Feed file",
        help_text=(
            "CSV, JSON lines (.jsonl) or NIEM XML (.xml), up to 5 MB; "
            "see the columns and elements below."
        ),
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[
            ("", "By the file name"),
            ("csv", "CSV"),
            ("jsonl", "JSON lines"),
            ("xml", "NIEM XML"),
        ],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is None:
            return data
        suffix = PurePath(str(upload.name or "")).suffix.lower()
        fmt = data.get("format") or FORMAT_BY_SUFFIX.get(suffix, "csv")
        data["format"] = fmt
        kind = str(getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        is_xml = kind in XML_TYPES or kind.endswith("+xml")
        if fmt == "xml" and not (is_xml or kind in UNSPECIFIC_TYPES):
            self.add_error("file", f"The file was sent as {kind}, not as XML.")
        elif fmt != "xml" and is_xml:
            self.add_error("file", "The file was sent as XML: choose the NIEM XML format.")
        return data


class WebhookForm(UswdsForm):
    """Register an endpoint of your agency's system (agency administrators)."""

    url = forms.CharField(
        label="Address",
        max_length=500,
        help_text="The https address of your system's receiver.",
    )
    purpose = forms.ChoiceField(label="Purpose", choices=Purpose.choices)
    event_types = forms.MultipleChoiceField(
        label="Event types",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to receive every type your agreements allow.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = _type_choices()  # type: ignore[attr-defined]
