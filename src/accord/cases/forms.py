"""Forms of the case pages. They parse and present; the actions validate and decide, and
their field errors are shown next to the fields (``directory.forms.show_errors``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from accord.cases.models import (
    CaseStatus,
    ChargeDisposition,
    ChargeLevel,
    Disposition,
    EventKind,
    EventStatus,
    NoteKind,
    TeamRole,
    Trigger,
)
from accord.directory.forms import UswdsForm
from accord.people.models import PartyRole

PARTY_ROLE_CHOICES = [c for c in PartyRole.choices if c[0] != PartyRole.CLIENT]


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "usa-input", **attrs})


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "usa-select"})


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"class": "usa-input", "type": "date"}, format="%Y-%m-%d")


def _moment() -> forms.DateTimeInput:
    return forms.DateTimeInput(
        attrs={"class": "usa-input", "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
    )


def _area(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"class": "usa-textarea", "rows": rows})


class PersonFields(UswdsForm):
    first_name = forms.CharField(
        label="First name", max_length=100, widget=_text(autocomplete="off")
    )
    middle_name = forms.CharField(
        label="Middle name", required=False, max_length=100, widget=_text(autocomplete="off")
    )
    last_name = forms.CharField(label="Last name", max_length=100, widget=_text(autocomplete="off"))
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=_date())


class ClientForm(PersonFields):
    suffix = forms.CharField(label="Suffix", required=False, max_length=20, widget=_text())
    number = forms.CharField(
        label="Client number",
        required=False,
        max_length=40,
        help_text="The office's number for the client; leave blank for a new one.",
        widget=_text(),
    )
    aliases = forms.CharField(
        label="Other names (aliases)",
        required=False,
        max_length=1000,
        help_text="Separate names with a semicolon: Dee Brookes; Darnell B. Brooks",
        widget=_text(),
    )


class ClientEditForm(PersonFields):
    suffix = forms.CharField(label="Suffix", required=False, max_length=20, widget=_text())


class CaseForm(UswdsForm):
    number = forms.CharField(label="Court case number", max_length=40, widget=_text())
    court = forms.TypedChoiceField(label="Court", coerce=int, widget=_select())
    case_type = forms.TypedChoiceField(
        label="Workload case type",
        coerce=int,
        help_text="How the case counts for caseloads (NPDWS 2023 or NAC 1973 standards).",
        widget=_select(),
    )
    opened_on = forms.DateField(label="Appointed on", widget=_date())

    def __init__(
        self,
        *args: Any,
        courts: Iterable[tuple[int, str]] = (),
        case_types: Iterable[tuple[Any, Any]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].choices = [("", "Choose a court"), *courts]  # type: ignore[attr-defined]
        self.fields["case_type"].choices = [("", "Choose a case type"), *case_types]  # type: ignore[attr-defined]


class OpenCaseForm(CaseForm):
    statute = forms.CharField(label="Lead charge: statute", max_length=80, widget=_text())
    description = forms.CharField(label="Lead charge: description", max_length=300, widget=_text())
    level = forms.ChoiceField(
        label="Lead charge: level", choices=ChargeLevel.choices, widget=_select()
    )
    degree = forms.CharField(
        label="Lead charge: degree", required=False, max_length=30, widget=_text()
    )
    attorney = forms.TypedChoiceField(
        label="Attorney",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Leave blank to take the case yourself (attorneys).",
        widget=_select(),
    )

    def __init__(
        self, *args: Any, attorneys: Iterable[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attorney"].choices = [("", "—"), *attorneys]  # type: ignore[attr-defined]


class CloseCaseForm(UswdsForm):
    disposition = forms.ChoiceField(
        label="Disposition", choices=Disposition.choices, widget=_select()
    )
    disposition_on = forms.DateField(label="Disposition date", widget=_date())
    closed_on = forms.DateField(label="Closed on", widget=_date())


class ReasonForm(UswdsForm):
    reason = forms.CharField(label="Why", max_length=300, widget=_text())


class ChargeForm(UswdsForm):
    statute = forms.CharField(label="Statute", max_length=80, widget=_text())
    description = forms.CharField(label="Description", max_length=300, widget=_text())
    level = forms.ChoiceField(label="Level", choices=ChargeLevel.choices, widget=_select())
    degree = forms.CharField(label="Degree or class", required=False, max_length=30, widget=_text())
    counts = forms.IntegerField(
        label="Counts", min_value=1, max_value=999, initial=1, widget=_text(inputmode="numeric")
    )


class ChargeEditForm(ChargeForm):
    disposition = forms.ChoiceField(
        label="Disposition", choices=ChargeDisposition.choices, widget=_select()
    )
    disposition_on = forms.DateField(
        label="Disposition date",
        required=False,
        help_text="Today if left blank.",
        widget=_date(),
    )


class EventForm(UswdsForm):
    kind = forms.ChoiceField(label="Kind of setting", choices=EventKind.choices, widget=_select())
    starts_at = forms.DateTimeField(label="Date and time", widget=_moment())
    courtroom = forms.CharField(label="Courtroom", required=False, max_length=60, widget=_text())


class OutcomeForm(UswdsForm):
    status = forms.ChoiceField(
        label="Outcome",
        choices=[(s, label) for s, label in EventStatus.choices if s != EventStatus.SCHEDULED],
        widget=_select(),
    )
    result = forms.CharField(
        label="What happened", required=False, max_length=1000, widget=_area(3)
    )
    continued_to = forms.DateTimeField(
        label="Continued to",
        required=False,
        help_text="For a continued setting: its new date and time.",
        widget=_moment(),
    )


class PartyForm(PersonFields):
    role = forms.ChoiceField(label="Role in the case", choices=PARTY_ROLE_CHOICES, widget=_select())


class AssignmentForm(UswdsForm):
    role = forms.ChoiceField(label="Role on the team", choices=TeamRole.choices, widget=_select())
    staff = forms.TypedChoiceField(label="Staff member", coerce=int, widget=_select())
    starts_on = forms.DateField(label="From", required=False, widget=_date())
    ends_on = forms.DateField(label="Until", required=False, widget=_date())

    def __init__(self, *args: Any, staff: Iterable[tuple[Any, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", "Choose a staff member"), *staff]  # type: ignore[attr-defined]


class CustodyForm(UswdsForm):
    in_custody_since = forms.DateField(label="In custody since", widget=_date())
    facility = forms.CharField(label="Facility", max_length=200, widget=_text())
    bond_amount = forms.DecimalField(
        label="Bond amount (USD)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=_text(inputmode="decimal"),
    )
    bond_terms = forms.CharField(
        label="Bond terms",
        required=False,
        max_length=200,
        help_text="e.g. cash only, no bond",
        widget=_text(),
    )


class ReleaseForm(UswdsForm):
    released_on = forms.DateField(label="Released on", widget=_date())


class NoteForm(UswdsForm):
    kind = forms.ChoiceField(label="Kind", choices=NoteKind.choices, widget=_select())
    text = forms.CharField(
        label="Note",
        max_length=20_000,
        help_text="Privileged. Sealed at rest; read only by the case's team and supervisors.",
        widget=_area(8),
    )


class NoteEditForm(UswdsForm):
    text = forms.CharField(label="Note", max_length=20_000, widget=_area(8))


class DocumentForm(UswdsForm):
    file = forms.FileField(
        label="File",
        help_text="PDF, image, office document, plain text, audio or video.",
        widget=forms.ClearableFileInput(attrs={"class": "usa-file-input"}),
    )
    description = forms.CharField(
        label="Description", required=False, max_length=300, widget=_text()
    )


class HitDecisionForm(UswdsForm):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            ("flagged", "Flag for a supervisor"),
            ("cleared", "Clear: not the same person, or no conflict"),
            ("confirmed", "Confirm the conflict (conflict counsel)"),
        ],
        widget=_select(),
    )
    note = forms.CharField(label="Why", required=False, max_length=1000, widget=_area(2))


class TicklerForm(UswdsForm):
    label = forms.CharField(label="What is due", max_length=200, widget=_text())
    due_on = forms.DateField(label="Due on", widget=_date())


class TicklerCloseForm(UswdsForm):
    note = forms.CharField(label="Note", required=False, max_length=500, widget=_text())


class RuleForm(UswdsForm):
    trigger = forms.ChoiceField(label="When", choices=Trigger.choices, widget=_select())
    value = forms.CharField(
        label="Which",
        required=False,
        max_length=40,
        help_text="A disposition (or convicted), or a kind of court event, for the triggers "
        "that take one.",
        widget=_text(),
    )
    offset_days = forms.IntegerField(
        label="Days after (negative: before)",
        min_value=-3650,
        max_value=3650,
        widget=_text(inputmode="numeric"),
    )
    label = forms.CharField(label="Label", max_length=200, widget=_text())
    active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )


class CaseFilterForm(UswdsForm):
    """Search and filters of the case list (GET: never changes anything)."""

    q = forms.CharField(
        label="Search cases",
        required=False,
        max_length=100,
        help_text="Case number, client number or client name.",
        widget=_text(type="search"),
    )
    scope = forms.ChoiceField(
        label="Whose cases",
        required=False,
        choices=[("mine", "My cases"), ("team", "My team's cases"), ("office", "The whole office")],
        widget=_select(),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *CaseStatus.choices],
        widget=_select(),
    )
    court = forms.TypedChoiceField(
        label="Court", required=False, coerce=int, empty_value=None, widget=_select()
    )
    case_type = forms.TypedChoiceField(
        label="Case type", required=False, coerce=int, empty_value=None, widget=_select()
    )
    conflict = forms.ChoiceField(
        label="Conflict check",
        required=False,
        choices=[
            ("", "Any"),
            ("unresolved", "Hits waiting for a decision"),
            ("conflict", "Confirmed conflict (conflict counsel)"),
        ],
        widget=_select(),
    )
    sort = forms.ChoiceField(
        label="Order",
        required=False,
        choices=[
            ("opened", "Newest first"),
            ("next", "Next court date"),
            ("number", "Case number"),
        ],
        widget=_select(),
    )

    def __init__(
        self,
        *args: Any,
        courts: Iterable[tuple[int, str]] = (),
        case_types: Iterable[tuple[Any, Any]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].choices = [("", "Any court"), *courts]  # type: ignore[attr-defined]
        self.fields["case_type"].choices = [("", "Any case type"), *case_types]  # type: ignore[attr-defined]


class ClientFilterForm(UswdsForm):
    q = forms.CharField(
        label="Search clients",
        required=False,
        max_length=100,
        help_text="Name, alias or client number.",
        widget=_text(type="search"),
    )
