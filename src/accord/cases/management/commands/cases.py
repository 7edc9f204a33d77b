"""``accord cases``: office-wide chores of case management.

* ``accord cases rules --agency HCPD`` gives the office the standard tickler rules it lacks.
* ``accord cases recheck --agency HCPD`` checks every open case's client and parties for
  conflicts again (after a bulk load, which runs none, or after a merge of people), one
  transaction per case, each audited like the "Check again" button.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.actors import SYSTEM, Actor
from accord.core.errors import AccordError


def _agency(short_name: str) -> Any:
    from accord.directory.models import Agency, AgencyKind

    agency = Agency.objects.filter(short_name=short_name).first()
    if agency is None or agency.kind != AgencyKind.PUBLIC_DEFENDER:
        raise CommandError(f"No defender office with the short name {short_name!r}.")
    return agency


def _operator(username: str | None) -> Actor:
    if not username:
        return SYSTEM
    from accord.accounts.identity import actor_for_username
    from accord.accounts.models import User

    try:
        return actor_for_username(username)
    except User.DoesNotExist as exc:
        raise CommandError(f"No user {username!r}.") from exc


class Command(BaseCommand):
    help = "Case management chores: standard tickler rules; conflict checks of open cases."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rules = sub.add_parser("rules", help="Add the standard tickler rules the office lacks.")
        rules.add_argument("--agency", required=True, help="the defender office's short name")
        recheck = sub.add_parser("recheck", help="Check every open case for conflicts again.")
        recheck.add_argument("--agency", required=True, help="the defender office's short name")
        recheck.add_argument("--as", dest="as_user", default=None, help="username acting")
        recheck.add_argument("--limit", type=int, default=0, help="at most this many cases")

    def handle(self, *args: Any, **options: Any) -> None:
        from accord.cases.actions import add_standard_rules, recheck_conflicts
        from accord.cases.models import Case, CaseStatus

        agency = _agency(options["agency"])
        if options["subcommand"] == "rules":
            added = add_standard_rules(agency, actor=SYSTEM)
            self.stdout.write(f"{added} standard rule(s) added to {agency.short_name}.")
            return
        actor = _operator(options["as_user"])
        cases = (
            Case.objects.filter(agency=agency, status=CaseStatus.OPEN)
            .select_related("client__person", "agency", "court")
            .order_by("pk")
        )
        if options["limit"]:
            cases = cases[: options["limit"]]
        checked = hits = 0
        for case in cases.iterator(chunk_size=200):
            try:
                case_check = recheck_conflicts(case, actor=actor)
            except AccordError as exc:
                raise CommandError(f"{case}: {exc.detail}") from exc
            checked += 1
            hits += case_check.check_run.open_count
        self.stdout.write(
            self.style.SUCCESS(f"{checked} open case(s) checked; {hits} hit(s) wait for a lawyer.")
        )
