"""Forms of the sign-in steps, the account page, account administration and API tokens.

Each field carries its USWDS class and its ``autocomplete`` purpose (WCAG 1.3.5), so
password managers and one-time-code autofill work and every field is labelled.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils import timezone

from accord.accounts.actions import TOKEN_MAX_DAYS
from accord.accounts.models import ApiScope
from accord.core.errors import AccordError
from accord.directory.models import Agency

TOKEN_DEFAULT_DAYS = 90


def _text(autocomplete: str, **attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "usa-input", "autocomplete": autocomplete, **attrs})


def _password(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"class": "usa-input", "autocomplete": autocomplete})


def _code_widget() -> forms.TextInput:
    return _text(
        "one-time-code",
        inputmode="numeric",
        pattern="[0-9 ]*",
        maxlength="7",
        autocapitalize="none",
        spellcheck="false",
    )


def password_rules() -> str:
    return " ".join(password_validators_help_texts())


class AccordForm(forms.Form):
    """A form whose errors are tied to their fields for screen readers, and which can take
    the per-field errors an action raised."""

    def full_clean(self) -> None:
        super().full_clean()
        self._mark_errors()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self._mark_errors()

    def _mark_errors(self) -> None:
        for name in getattr(self, "_errors", None) or {}:
            if name not in self.fields:
                continue
            field = self.fields[name]
            described = [f"id_{name}_error"]
            if field.help_text:
                described.insert(0, f"id_{name}_helptext")
            field.widget.attrs["aria-describedby"] = " ".join(described)
            classes = field.widget.attrs.get("class", "")
            if "usa-input" in classes.split() and "usa-input--error" not in classes:
                field.widget.attrs["class"] = classes + " usa-input--error"

    def add_action_errors(self, exc: AccordError, default_field: str | None = None) -> None:
        """Show what an action refused: each named field's reason next to it, the rest on
        top of the form."""
        placed = False
        for error in exc.errors:
            name = error.get("field", "")
            if name in self.fields:
                self.add_error(name, error.get("reason", ""))
                placed = True
        if not placed:
            if default_field and default_field in self.fields:
                self.add_error(default_field, exc.detail)
            else:
                self.add_error(None, exc.detail)


class SignInForm(AccordForm):
    username = forms.CharField(
        label="User name",
        max_length=150,
        widget=_text("username", autocapitalize="none", spellcheck="false"),
        error_messages={"required": "Enter your user name."},
    )
    password = forms.CharField(
        label="Password",
        max_length=4096,
        strip=False,
        widget=_password("current-password"),
        error_messages={"required": "Enter your password."},
    )


class SecondFactorForm(AccordForm):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
        # Recovery codes hold letters: no numeric keypad here.
        widget=_text("one-time-code", autocapitalize="none", spellcheck="false"),
        error_messages={"required": "Enter the code."},
    )


class EnrolForm(AccordForm):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=7,
        help_text="6 digits; a new one appears every 30 seconds.",
        widget=_code_widget(),
        error_messages={"required": "Enter the 6-digit code."},
    )


class ReauthForm(AccordForm):
    password = forms.CharField(
        label="Password",
        max_length=4096,
        strip=False,
        widget=_password("current-password"),
        error_messages={"required": "Enter your password."},
    )
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=7,
        help_text="6 digits. A code you have already used is not accepted again: wait for "
        "the next one.",
        widget=_code_widget(),
        error_messages={"required": "Enter the 6-digit code."},
    )


class _NewPasswordFields(AccordForm):
    new_password = forms.CharField(
        label="New password",
        max_length=4096,
        strip=False,
        widget=_password("new-password"),
        error_messages={"required": "Enter the new password."},
    )
    new_password_again = forms.CharField(
        label="New password again",
        max_length=4096,
        strip=False,
        widget=_password("new-password"),
        error_messages={"required": "Enter the new password a second time."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password"].help_text = password_rules()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("new_password"), data.get("new_password_again")
        if first is not None and second is not None and first != second:
            self.add_error("new_password_again", "The two new passwords are not the same.")
        return data


class ChangePasswordForm(_NewPasswordFields):
    current_password = forms.CharField(
        label="Current password",
        max_length=4096,
        strip=False,
        widget=_password("current-password"),
        error_messages={"required": "Enter your current password."},
    )
    field_order = ["current_password", "new_password", "new_password_again"]


class SetPasswordForm(_NewPasswordFields):
    pass


def _default_expiry() -> date:
    return timezone.localdate() + timedelta(days=TOKEN_DEFAULT_DAYS)


class TokenForm(AccordForm):
    agency = forms.ModelChoiceField(
        label="Agency",
        queryset=Agency.objects.none(),
        empty_label=None,
        help_text="The agency whose system will use the token.",
        widget=forms.Select(attrs={"class": "usa-select"}),
    )
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses it, e.g. “Jail management system: booking feed”.",
        widget=_text("off"),
        error_messages={"required": "Give the token a name."},
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=ApiScope.choices,
        help_text="Only what the system needs.",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "usa-checkbox__input"}),
        error_messages={"required": "Choose at least one scope."},
    )
    expires_on = forms.DateField(
        label="Expires on",
        help_text=f"At most {TOKEN_MAX_DAYS} days from today; {TOKEN_DEFAULT_DAYS} by default.",
        widget=forms.DateInput(attrs={"class": "usa-input", "type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Choose the expiry date.", "invalid": "Enter a date."},
    )

    def __init__(self, *args: Any, agencies: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("expires_on", _default_expiry())
        super().__init__(*args, **kwargs)
        agency_field = self.fields["agency"]
        assert isinstance(agency_field, forms.ModelChoiceField)
        agency_field.queryset = agencies
        today = timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + timedelta(days=TOKEN_MAX_DAYS)).isoformat(),
            }
        )
