from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accord.core.actors import SYSTEM
from accord.core.errors import AccordError


class Command(BaseCommand):
    help = (
        "Create the first coordinator (and the coordinating council agency if there is none). "
        "The password is asked for, or read from ACCORD_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="Partnership")
        parser.add_argument("--last-name", default="Coordinator")
        parser.add_argument("--council", default="Coordinating Council")
        parser.add_argument("--jurisdiction", default="County")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("ACCORD_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        try:
            # One transaction: a refused password must not leave a council behind.
            with transaction.atomic():
                council, profile = self._create(options, password)
        except AccordError as exc:
            details = "; ".join(f"{e['field']}: {e['reason']}" for e in exc.errors)
            raise CommandError(f"{exc.detail} {details}".strip()) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created coordinator {profile.user.username} in {council.name}. They enrol an "
                "authenticator app at first sign-in."
            )
        )

    def _create(self, options: dict[str, Any], password: str) -> tuple[Any, Any]:
        from accord.directory.actions import add_staff, create_agency
        from accord.directory.models import Agency, AgencyKind

        council = Agency.objects.filter(kind=AgencyKind.COORDINATING_COUNCIL).first()
        if council is None:
            short = "".join(w[0] for w in options["council"].split()).upper()[:40] or "CC"
            council = create_agency(
                actor=SYSTEM,
                name=options["council"],
                short_name=short,
                kind=AgencyKind.COORDINATING_COUNCIL,
                jurisdiction=options["jurisdiction"],
            )
        profile = add_staff(
            council,
            actor=SYSTEM,
            username=options["username"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            email=options["email"],
            roles=["coordinator", "agency_admin"],
            password=password,
        )
        return council, profile
