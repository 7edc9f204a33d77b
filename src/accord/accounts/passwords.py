"""Password rules after NIST SP 800-63B 5.1.1.2 and OWASP ASVS 2.1: length, any printable
character, a check against common passwords; no composition rules."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 128


class LengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < MIN_LENGTH:
            raise ValidationError(
                f"This password is too short: use at least {MIN_LENGTH} characters.",
                code="password_too_short",
            )
        if len(password) > MAX_LENGTH:
            raise ValidationError(
                f"This password is too long: use at most {MAX_LENGTH} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return (
            f"Use {MIN_LENGTH} to {MAX_LENGTH} characters. Spaces, symbols and any language "
            "are welcome; a long phrase is easiest to remember."
        )


class PrintableValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if any(unicodedata.category(ch).startswith("C") for ch in password):
            raise ValidationError(
                "This password contains a control or invisible character; use printable "
                "characters only.",
                code="password_not_printable",
            )

    def get_help_text(self) -> str:
        return "Printable characters only."
