"""Subscriptions tied to the representation: while a staff member is assigned to an open
case of their agency they are subscribed to its case number and its client; when the
assignment ends or the case closes, the subscription ends. Explicit subscriptions end when
their subscriber leaves the agency or is deactivated. Run by ``revalidate_subscriptions``
(hourly task), so a change in the cases app takes effect within the hour.
"""

from __future__ import annotations

from accord.core.access import Purpose
from accord.exchange.models import Subscription, SubscriptionOrigin


def wanted_assignments() -> dict[tuple[int, str], tuple[int, int | None, str]]:
    """(user, case number) -> (agency, client's master person, label) for every assignment
    in force today on an open case."""
    from accord.cases.access import active_on
    from accord.cases.models import Assignment, CaseStatus
    from accord.people.models import PersonLink

    rows = (
        Assignment.objects.filter(active_on(), case__status=CaseStatus.OPEN)
        .select_related("case__client", "staff")
        .values_list("staff__user_id", "case__number", "case__agency_id", "case__client__person_id")
    )
    found = list(rows)
    masters = dict(
        PersonLink.objects.filter(record_id__in={r[3] for r in found}).values_list(
            "record_id", "master_id"
        )
    )
    return {
        (user_id, number): (agency_id, masters.get(person_id), f"case {number}")
        for user_id, number, agency_id, person_id in found
    }


def assignment_changes() -> tuple[list[Subscription], list[Subscription], list[Subscription]]:
    """Subscriptions to create, to end, and to complete with the client's master person
    (identity resolution links a new client's record shortly after the case is opened)."""
    wanted = wanted_assignments()
    current = {
        (s.subscriber_id, s.case_reference): s
        for s in Subscription.objects.active().filter(origin=SubscriptionOrigin.ASSIGNMENT)
    }
    to_end = [s for key, s in current.items() if key not in wanted]
    to_create = [
        Subscription(
            subscriber_id=user_id,
            agency_id=agency_id,
            master_id=master_id,
            case_reference=number,
            purpose=Purpose.DEFENSE,
            origin=SubscriptionOrigin.ASSIGNMENT,
            label=label,
        )
        for (user_id, number), (agency_id, master_id, label) in wanted.items()
        if (user_id, number) not in current
    ]
    to_fill = []
    for key, sub in current.items():
        master_id = wanted.get(key, (0, None, ""))[1]
        if sub.master_id is None and master_id is not None:
            sub.master_id = master_id
            to_fill.append(sub)
    return to_create, to_end, to_fill


def departed() -> list[Subscription]:
    """Active subscriptions whose subscriber is deactivated or no longer with the agency."""
    from accord.directory.models import StaffProfile

    agency_of = dict(StaffProfile.objects.values_list("user_id", "agency_id"))
    return [
        s
        for s in Subscription.objects.active().select_related("subscriber")
        if not s.subscriber.is_active or agency_of.get(s.subscriber_id) != s.agency_id
    ]
