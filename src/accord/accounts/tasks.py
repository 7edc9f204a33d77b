"""Background work of accounts: telling administrators about a locked account."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from accord.accounts.models import User
from accord.core.actors import SYSTEM
from accord.directory.models import Role, StaffProfile


def _recipients(user: User) -> list[str]:
    """The active agency administrators of the locked person's agency; the coordinators
    when that agency has none (someone must be told)."""
    profile = user.profile
    staff = StaffProfile.objects.visible_to(SYSTEM).filter(user__is_active=True).exclude(user=user)
    admins = (
        staff.filter(agency_id=profile.agency_id, role_rows__role=Role.AGENCY_ADMIN)
        if profile is not None
        else staff.none()
    )
    if not admins.exists():
        admins = staff.filter(role_rows__role=Role.COORDINATOR)
    emails = admins.exclude(user__email="").values_list("user__email", flat=True).distinct()
    return sorted(emails)


@task()
def send_lockout_notice(user_id: int, locked_at: str, base_url: str = "") -> int:
    """E-mail the administrators who can unlock a locked account (CJIS 5.5.3: an account
    locked after failed sign-ins stays locked until an administrator releases it).
    Returns how many e-mails were sent."""
    user = User.objects.select_related("staff__agency").filter(pk=user_id).first()
    if user is None or user.locked_at is None:
        return 0  # unlocked before the notice went out: nothing to ask for
    recipients = _recipients(user)
    if not recipients:
        return 0
    when = timezone.localtime(datetime.fromisoformat(locked_at))
    path = reverse("accounts:user-detail", args=[user.pk])
    link = base_url.rstrip("/") + path if base_url else path
    profile = user.profile
    who = user.get_full_name() or user.username
    agency = f", {profile.agency.name}" if profile is not None else ""
    subject = f"Accord: account {user.username} locked after failed sign-ins"
    body = (
        f"Account {user.username} ({who}{agency}) was locked after "
        f"{settings.LOCKOUT_THRESHOLD} failed sign-ins at {when:%Y-%m-%d %H:%M %Z}.\n\n"
        f"Unlock it at {link}\n"
        "once you have confirmed with the person that the attempts were their own. If they "
        "were not, leave the account locked and report it as a security incident.\n"
    )
    messages = [EmailMessage(subject, body, None, [address]) for address in recipients]
    return int(get_connection().send_messages(messages) or 0)
