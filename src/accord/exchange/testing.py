"""Building exchange scenarios through the real actions, for tests, benchmarks and the demo."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accord.accounts.actions import create_api_token
from accord.accounts.identity import actor_for_user
from accord.agreements.models import Agreement, ObligationMeasure
from accord.agreements.testing import make_agreement, term
from accord.core.access import Purpose
from accord.core.testing import County
from accord.exchange.actions import subscribe
from accord.exchange.models import Subscription
from accord.people.actions import record_person
from accord.people.models import PersonRecord

PERSON = {"first_name": "Jordan", "last_name": "Avery", "date_of_birth": "1990-04-12"}


def jail_mou(county: County, reference: str = "MOU-EX-1", hours: int = 24) -> Agreement:
    """The jail tells the defender of custody events for defense representation (§3.2), and
    owes delivery of bookings within ``hours`` (§4.1)."""
    return make_agreement(
        reference,
        [(county.defender, county.defender_admin), (county.jail, county.jail_admin)],
        [
            term(
                "3.2",
                county.jail,
                county.defender,
                ["identity", "custody"],
                [Purpose.DEFENSE],
                actions_=("view", "notify", "receive_copy"),
            )
        ],
        obligations=[
            {
                "clause": "4.1",
                "party": county.jail.pk,
                "counterparty": county.defender.pk,
                "description": "Tell the defender of each booking",
                "measure": ObligationMeasure.EVENT_DELIVERED,
                "subject": "custody.booked",
                "within_hours": hours,
            }
        ],
    )


def token_for(county: County, agency_key: str, scopes: list[str]) -> str:
    agency = county.agencies[agency_key]
    _, plain = create_api_token(
        agency,
        f"{agency.short_name} events",
        scopes,
        timezone.now() + timedelta(days=30),
        actor=actor_for_user(county.coordinator),
    )
    return plain


def defender_client(county: County, source_id: str = "D-1", **person: Any) -> PersonRecord:
    """The defender's own record of the client (what an attorney subscribes to)."""
    return record_person(
        county.defender,
        source_id,
        actor=actor_for_user(county.defender_attorney),
        **{**PERSON, **person},
    )


def attorney_subscribes(county: County, record: PersonRecord, **kwargs: Any) -> Subscription:
    return subscribe(actor=actor_for_user(county.defender_attorney), person_record=record, **kwargs)


def booking(
    source_id: str = "J-77",
    *,
    booking_number: str = "B-1",
    **person: Any,
) -> dict[str, Any]:
    return {
        "subject": {"source_id": source_id, **PERSON, **person},
        "booking_number": booking_number,
        "facility": "Main jail",
    }


def minutes_ago(n: float) -> datetime:
    return timezone.now() - timedelta(minutes=n)


# --- a service provider following its clients' court dates ----------------------------------

HEARING_TYPES = ["court.hearing_scheduled", "court.hearing_continued"]


def provider_client(county: County, source_id: str = "P-1", **person: Any) -> PersonRecord:
    """The provider's own record of a client it serves (referrals will point here later)."""
    return record_person(
        county.provider,
        source_id,
        actor=actor_for_user(county.provider_case_worker),
        **{**PERSON, **person},
    )


def court_to_provider_mou(
    county: County, reference: str = "MOU-PRV-1", consent: str = "client"
) -> Agreement:
    """The court tells the provider of its clients' hearings for treatment coordination
    (§5.1), with the client's consent unless ``consent`` says otherwise."""
    return make_agreement(
        reference,
        [(county.court, county.court_clerk), (county.provider, county.provider_case_worker)],
        [
            term(
                "5.1",
                county.court,
                county.provider,
                ["identity", "court_events"],
                [Purpose.TREATMENT],
                actions_=("view", "notify"),
                consent=consent,
            )
        ],
    )


def provider_subscribes(county: County, record: PersonRecord, **kwargs: Any) -> Subscription:
    kwargs.setdefault("event_types", HEARING_TYPES)
    kwargs.setdefault("purpose", Purpose.TREATMENT)
    return subscribe(
        actor=actor_for_user(county.provider_case_worker), person_record=record, **kwargs
    )


def hearing(
    source_id: str = "C-9", case_reference: str = "2026-CF-1", **person: Any
) -> dict[str, Any]:
    """A hearing the court scheduled three days from now."""
    return {
        "subject": {"source_id": source_id, **PERSON, **person},
        "case_reference": case_reference,
        "hearing_at": (timezone.now() + timedelta(days=3)).isoformat(),
    }
