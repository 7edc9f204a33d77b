"""Forms of the directory pages. They parse and present; the actions validate and decide,
and their field errors are shown next to the fields here (:func:`show_errors`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts

from accord.core.errors import AccordError
from accord.directory.models import (
    AgencyKind,
    AgencyStatus,
    Role,
    StaffAttribute,
    Unit,
)

TEXT_ATTRIBUTES = (StaffAttribute.BAR_NUMBER, StaffAttribute.BADGE_NUMBER)
FLAG_ATTRIBUTES = (
    StaffAttribute.SWORN_OFFICER,
    StaffAttribute.PART2_PROGRAM,
    StaffAttribute.LICENSED_CLINICIAN,
)


def _input(widget: forms.Widget) -> forms.Widget:
    widget.attrs.setdefault("class", "usa-input")
    return widget


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "usa-select"})


def _checkbox() -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "usa-checkbox__input"})


class UswdsForm(forms.Form):
    """A form whose widgets carry the USWDS error class and point screen readers at their
    hint and error message (``<id>-hint``, ``<id>-error``, as the field template renders)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mark_fields()

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_fields()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.mark_fields()

    def mark_fields(self) -> None:
        # Before validation there are no errors yet (``_errors`` is None until full_clean).
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            # The id BoundField.auto_id gives, without creating (and caching) a BoundField
            # before a subclass has finished setting up its fields.
            auto_id = str(self.auto_id or "id_%s") % self.add_prefix(name)
            attrs = field.widget.attrs
            described = []
            if field.help_text:
                described.append(f"{auto_id}-hint")
            if name in errors:
                described.append(f"{auto_id}-error")
                attrs["aria-invalid"] = "true"
                classes = attrs.get("class", "")
                if classes.startswith(("usa-input", "usa-select", "usa-textarea")) and (
                    "usa-input--error" not in classes
                ):
                    attrs["class"] = f"{classes} usa-input--error"
            if described and not isinstance(field.widget, forms.CheckboxSelectMultiple):
                attrs["aria-describedby"] = " ".join(described)


def show_errors(form: forms.Form, error: AccordError) -> None:
    """Put an action's refusal on the form: each named field next to that field (the
    attribute ``attributes.bar_number`` on the field ``bar_number``), the rest on top."""
    placed = False
    for item in error.errors:
        name = item.get("field", "")
        if name.startswith("attributes."):
            name = name.removeprefix("attributes.")
        if name in form.fields:
            form.add_error(name, item.get("reason", "invalid"))
            placed = True
    if not placed or not error.errors:
        form.add_error(None, error.detail)


class AgencyFilterForm(UswdsForm):
    """Search and filters of the agency list (a GET form: never changes anything)."""

    q = forms.CharField(
        label="Search agencies",
        required=False,
        max_length=100,
        help_text="Name, short name, jurisdiction or identifier.",
        widget=_input(forms.TextInput(attrs={"type": "search"})),
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *AgencyKind.choices],
        widget=_select(),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *AgencyStatus.choices],
        widget=_select(),
    )


class AgencyForm(UswdsForm):
    """An agency's details. Only a coordinator sees the identity fields enabled."""

    name = forms.CharField(label="Name", max_length=200, widget=_input(forms.TextInput()))
    short_name = forms.CharField(
        label="Short name", max_length=40, widget=_input(forms.TextInput())
    )
    kind = forms.ChoiceField(label="Kind", choices=AgencyKind.choices, widget=_select())
    jurisdiction = forms.CharField(
        label="Jurisdiction", max_length=120, widget=_input(forms.TextInput())
    )
    identifier = forms.CharField(
        label="Identifier",
        required=False,
        max_length=40,
        help_text="ORI, NPI, court code or similar; unique among agencies of the same kind.",
        widget=_input(forms.TextInput()),
    )
    email = forms.EmailField(
        label="Contact e-mail", required=False, widget=_input(forms.EmailInput())
    )
    phone = forms.CharField(
        label="Contact phone", required=False, max_length=40, widget=_input(forms.TextInput())
    )

    IDENTITY_FIELDS = ("name", "short_name", "kind", "jurisdiction", "identifier")

    def __init__(self, *args: Any, coordinator: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not coordinator:
            # Disabled fields keep their initial value whatever a browser sends.
            for name in self.IDENTITY_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Only a coordinator can change this."
            self.mark_fields()


class SuspendForm(UswdsForm):
    reason = forms.CharField(
        label="Reason for the suspension",
        max_length=500,
        help_text="Recorded in the audit log and shown to the agency.",
        widget=forms.Textarea(attrs={"class": "usa-textarea", "rows": 3}),
    )


class UnitForm(UswdsForm):
    name = forms.CharField(label="Unit name", max_length=120, widget=_input(forms.TextInput()))
    description = forms.CharField(
        label="Description", required=False, max_length=300, widget=_input(forms.TextInput())
    )


class StaffFilterForm(UswdsForm):
    q = forms.CharField(
        label="Search staff",
        required=False,
        max_length=100,
        help_text="Name, title, or the username of someone you manage.",
        widget=_input(forms.TextInput(attrs={"type": "search"})),
    )
    agency = forms.TypedChoiceField(
        label="Agency", required=False, coerce=int, empty_value=None, widget=_select()
    )
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "Any role"), *Role.choices], widget=_select()
    )

    def __init__(self, *args: Any, agencies: Iterable[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "Any agency"), *agencies]  # type: ignore[attr-defined]


def _unit_choices(units: Iterable[Unit], grouped: bool) -> list[Any]:
    choices: list[Any] = [("", "No unit")]
    if not grouped:
        return [*choices, *((u.pk, u.name) for u in units)]
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in units:
        groups.setdefault(unit.agency.name, []).append((unit.pk, unit.name))
    return [*choices, *groups.items()]


class StaffDetailsForm(UswdsForm):
    """What an administrator sets about a staff member: title, phone, unit, roles and the
    attributes agreements may require."""

    unit = forms.TypedChoiceField(
        label="Unit", required=False, coerce=int, empty_value=None, widget=_select()
    )
    title = forms.CharField(
        label="Title", required=False, max_length=120, widget=_input(forms.TextInput())
    )
    phone = forms.CharField(
        label="Work phone", required=False, max_length=40, widget=_input(forms.TextInput())
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        required=False,
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "usa-checkbox__input"}),
    )
    bar_number = forms.CharField(
        label=StaffAttribute.BAR_NUMBER.label,
        required=False,
        max_length=60,
        widget=_input(forms.TextInput()),
    )
    badge_number = forms.CharField(
        label=StaffAttribute.BADGE_NUMBER.label,
        required=False,
        max_length=60,
        widget=_input(forms.TextInput()),
    )
    sworn_officer = forms.BooleanField(
        label=StaffAttribute.SWORN_OFFICER.label, required=False, widget=_checkbox()
    )
    part2_program = forms.BooleanField(
        label=StaffAttribute.PART2_PROGRAM.label, required=False, widget=_checkbox()
    )
    licensed_clinician = forms.BooleanField(
        label=StaffAttribute.LICENSED_CLINICIAN.label, required=False, widget=_checkbox()
    )

    def __init__(
        self,
        *args: Any,
        units: Iterable[Unit] = (),
        grouped_units: bool = False,
        coordinator: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = _unit_choices(units, grouped_units)  # type: ignore[attr-defined]
        if not coordinator:
            # The coordinator role is a coordinator's to give; others do not see the box.
            self.fields["roles"].choices = [  # type: ignore[attr-defined]
                c for c in Role.choices if c[0] != Role.COORDINATOR
            ]

    def attributes(self) -> dict[str, Any]:
        data = self.cleaned_data
        found: dict[str, Any] = {name: data.get(name, "") for name in TEXT_ATTRIBUTES}
        found.update({name: bool(data.get(name)) for name in FLAG_ATTRIBUTES})
        return found

    @property
    def text_attribute_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in TEXT_ATTRIBUTES]

    @property
    def flag_attribute_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FLAG_ATTRIBUTES]

    @staticmethod
    def initial_for(profile: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "unit": profile.unit_id,
            "title": profile.title,
            "phone": profile.phone,
            "roles": sorted(profile.roles),
        }
        for name in TEXT_ATTRIBUTES:
            initial[name] = profile.attributes.get(name, "")
        for name in FLAG_ATTRIBUTES:
            initial[name] = bool(profile.attributes.get(name))
        return initial


class AddStaffForm(StaffDetailsForm):
    """A new person: their account (username, names, e-mail, an optional first password)
    and their place in an agency."""

    field_order = [
        "username",
        "first_name",
        "last_name",
        "email",
        "agency",
        "unit",
        "title",
        "phone",
        "roles",
    ]

    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
        widget=_input(forms.TextInput(attrs={"autocomplete": "off"})),
    )
    first_name = forms.CharField(
        label="First name", max_length=150, widget=_input(forms.TextInput())
    )
    last_name = forms.CharField(label="Last name", max_length=150, widget=_input(forms.TextInput()))
    email = forms.EmailField(label="Work e-mail", widget=_input(forms.EmailInput()))
    agency = forms.TypedChoiceField(label="Agency", coerce=int, widget=_select())
    password = forms.CharField(
        label="Initial password (optional)",
        required=False,
        strip=False,
        max_length=128,
        widget=_input(forms.PasswordInput(attrs={"autocomplete": "new-password"})),
    )

    def __init__(self, *args: Any, agencies: Iterable[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency_choices = list(agencies)
        self.fields["agency"].choices = agency_choices  # type: ignore[attr-defined]
        if len(agency_choices) == 1:
            # An agency administrator adds staff to their own agency only.
            self.fields["agency"].disabled = True
            self.fields["agency"].initial = agency_choices[0][0]
        self.fields["password"].help_text = (
            " ".join(password_validators_help_texts())
            + " Leave empty to have an administrator set it later."
        )
        self.mark_fields()
