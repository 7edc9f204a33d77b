"""Background work of agreements: the daily upkeep (statuses and reminders) and the hourly
check of measured obligations (breach alerts)."""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import send_mail
from django_tasks import task

from accord.accounts.models import User
from accord.agreements.actions import (
    activate_due,
    mark_breach_alert_emailed,
    raise_breach_alerts,
    send_due_reminders,
)
from accord.agreements.models import BreachAlert
from accord.core.actors import SYSTEM
from accord.core.schedule import every


@every(timedelta(days=1))
@task()
def agreement_upkeep() -> dict[str, int]:
    """Bring signed versions into force on their effective date, mark expired ones, and
    send the review and expiry reminders that are due. Decisions never wait for this:
    they check dates themselves, so a late run changes labels and reminders, not flows."""
    changed = activate_due(actor=SYSTEM)
    reminded = send_due_reminders(actor=SYSTEM)
    return {"versions_changed": changed, "reminders_sent": reminded}


def send_breach_alert(alert_id: int) -> bool:
    """E-mail one breach alert to the administrators it names, then record it. At-least-once
    like every e-mail: a worker killed between sending and recording can send it twice."""
    alert = (
        BreachAlert.objects.select_related(
            "obligation__version__agreement", "obligation__party", "obligation__counterparty"
        )
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or alert.emailed_at is not None:
        return False
    to = sorted(
        User.objects.filter(pk__in=alert.recipients, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if to:
        obligation = alert.obligation
        agreement = obligation.version.agreement
        send_mail(
            f"[Accord] {agreement.reference} §{obligation.clause}: obligation missed",
            f"{agreement.reference} ({agreement.title}), §{obligation.clause}: "
            f"{obligation.words()}.\n\n{alert.words()}.\n\n"
            f"See the agreement's compliance in Accord: /agreements/{agreement.pk}/\n",
            None,
            to,
        )
    mark_breach_alert_emailed(alert_id, actor=SYSTEM)
    return True


@task()
def email_breach_alert(alert_id: int) -> bool:
    """E-mail one breach alert (enqueued in the transaction that raised it)."""
    return send_breach_alert(alert_id)


@every(timedelta(hours=1))
@task()
def check_obligations() -> int:
    """Raise an alert for each occurrence that breached its obligation since the last run
    (hourly: a breach is known within the hour of its deadline)."""
    return raise_breach_alerts(actor=SYSTEM)
