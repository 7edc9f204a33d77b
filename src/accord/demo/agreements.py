"""The demo county's agreements, consents, client records and disclosures, made through the
same actions people use: signed agreements between the defender and the jail, the court,
probation and two service providers (one a 42 CFR Part 2 program), one agreement under
review, one expired, a draft amendment to dry-run, consents for some clients, a screen.

The expired agreement is signed "in the past" by running its actions on Django's clock set
back (``on_day``); its audit events carry those dates. Everything is synthetic."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.accounts.models import User
from accord.agreements import actions as agreements
from accord.agreements.testing import make_agreement, on_day, term
from accord.consent.actions import revoke_consent
from accord.consent.testing import make_consent
from accord.core.actors import Actor
from accord.directory.models import Agency
from accord.policy.actions import record_disclosures, register_record, screen_staff
from accord.policy.engine import Resource, decide_many

DEFENSE = "defense_representation"
TREATMENT = "treatment"
SERVICES = "social_services"
SUPERVISION = "community_supervision"
ADJUDICATION = "adjudication"
LADDER = (
    ("Line staff of both agencies", 5),
    ("Supervisors", 10),
    ("Agency heads", 20),
    ("Justice Coordinating Council", None),
)

# What the jail and the court tell the defender (MOU-2026-01 §3.2, MOU-2026-02 §2.1). Every
# event carries the subject's identity, so each term names it: without it, no booking or
# continuance reaches anyone (``accord demo simulate`` relies on these).
JAIL_TO_DEFENDER = ("custody", "identity", "charges")
COURT_TO_DEFENDER = ("identity", "court_events", "case_status")

CLIENTS = {
    "HC-0001": "Jordan Reyes",
    "HC-0002": "Morgan Lee",
    "HC-0003": "Taylor Brooks",
    "HC-0004": "Riley Okonkwo",
    "HC-0005": "Avery Lindgren",
    "HC-0006": "Quinn Ramirez",
}


def seed_agreements(*, actor: Actor) -> dict[str, int]:
    """Called by ``seed_demo_county`` inside its action, after the agencies and people."""
    a = {agency.short_name: agency for agency in Agency.objects.all()}
    u = {user.username: user for user in User.objects.filter(is_demo=True)}
    today = timezone.localdate()
    pd, sam = a["HCPD"], u["sam.supervisor"]
    made = []
    made.append(
        make_agreement(
            "MOU-2026-01",
            [(pd, sam), (a["HCJ"], u["jamie.jailadmin"])],
            [
                term("3.2", a["HCJ"], pd, list(JAIL_TO_DEFENDER), [DEFENSE]),
                term(
                    "3.3", a["HCJ"], pd, ["criminal_history"], [DEFENSE], recipient_role="attorney"
                ),
            ],
            obligations=[
                {
                    "clause": "4.1",
                    "party": a["HCJ"].pk,
                    "counterparty": pd.pk,
                    "description": "Notify the defender of every booking of a client",
                    "measure": "event_delivered_within",
                    "subject": "booking",
                    "within_hours": 24,
                }
            ],
            escalation=LADDER,
            title="Jail notices to the public defender",
            effective_on=today - timedelta(days=120),
            expires_on=today + timedelta(days=610),
            review_on=today + timedelta(days=245),
            actor=actor,
        )
    )
    made.append(
        make_agreement(
            "MOU-2026-02",
            [(pd, sam), (a["HCCC"], u["carla.clerk"])],
            [
                term("2.1", a["HCCC"], pd, list(COURT_TO_DEFENDER), [DEFENSE]),
                term("2.2", pd, a["HCCC"], ["case_status"], [ADJUDICATION]),
            ],
            escalation=LADDER,
            title="Court calendar and case status exchange",
            effective_on=today - timedelta(days=300),
            expires_on=today + timedelta(days=45),
            review_on=today + timedelta(days=15),
            actor=actor,
        )
    )
    agreements.start_review(made[-1], actor=actor, note="Renewal talks before expiry")
    made.append(
        make_agreement(
            "MOU-2026-03",
            [(pd, sam), (a["HCAPP"], u["petra.probation"])],
            [
                term("5.1", a["HCAPP"], pd, ["case_status", "criminal_history"], [DEFENSE]),
                term(
                    "5.2",
                    pd,
                    a["HCAPP"],
                    ["contact"],
                    [SUPERVISION],
                    consent="client",
                    recipient_attributes=["sworn_officer"],
                ),
            ],
            obligations=[
                {
                    "clause": "6.1",
                    "party": a["HCAPP"].pk,
                    "description": "Quarterly report of violations filed on clients",
                    "measure": "report_every",
                    "subject": "violations",
                    "every_days": 90,
                }
            ],
            escalation=LADDER,
            title="Probation status sharing",
            actor=actor,
        )
    )
    made.append(
        make_agreement(
            "QSOA-2026-04",
            [(pd, sam), (a["NRTC"], u["casey.caseworker"])],
            [
                term(
                    "4.1",
                    a["NRTC"],
                    pd,
                    ["substance_use_part2", "mental_health"],
                    [DEFENSE, TREATMENT],
                    consent="part2",
                ),
                term(
                    "4.2",
                    pd,
                    a["NRTC"],
                    ["identity", "contact", "case_status"],
                    [TREATMENT],
                    actions_=("view", "notify", "receive_copy"),
                    consent="client",
                    retention_days=365,
                ),
            ],
            obligations=[
                {
                    "clause": "7.1",
                    "party": a["NRTC"].pk,
                    "counterparty": pd.pk,
                    "description": "Answer referrals within 5 days",
                    "measure": "request_answered_within",
                    "subject": "referral",
                    "within_days": 5,
                }
            ],
            escalation=LADDER,
            kind="qsoa",
            title="Treatment referrals (42 CFR Part 2 program)",
            actor=actor,
        )
    )
    made.append(
        make_agreement(
            "MOU-2026-05",
            [(pd, sam), (a["HHA"], u["hana.housing"])],
            [
                term(
                    "2.1",
                    pd,
                    a["HHA"],
                    ["identity", "contact", "housing", "benefits"],
                    [SERVICES],
                    actions_=("view", "receive_copy"),
                    consent="client",
                    retention_days=730,
                ),
                term("2.2", a["HHA"], pd, ["housing"], [DEFENSE], consent="client"),
            ],
            escalation=LADDER,
            title="Housing referrals",
            actor=actor,
        )
    )
    with on_day(today - timedelta(days=790)):
        made.append(
            make_agreement(
                "DSA-2024-07",
                [(pd, sam), (a["HCDA"], u["paul.prosecutor"])],
                [
                    term(
                        "2.1",
                        a["HCDA"],
                        pd,
                        ["discovery", "charges"],
                        [DEFENSE],
                        actions_=("view", "receive_copy"),
                    )
                ],
                kind="data_sharing",
                title="Electronic discovery pilot",
                effective_on=today - timedelta(days=790),
                expires_on=today - timedelta(days=60),
                actor=actor,
            )
        )
    agreements.activate_due(actor=actor)
    amendment = agreements.amend(
        made[0], actor=actor, change_summary="Add court-ordered evaluations and release dates"
    )
    agreements.add_term(
        amendment,
        actor=actor,
        **term(
            "3.4", a["HCJ"], pd, ["medical", "mental_health"], [DEFENSE], recipient_role="attorney"
        ),
    )
    _consents(a, actor)
    records = _records(a, actor)
    screen_staff(
        u["ivan.investigator"],
        actor=actor,
        client_key="HC-0005",
        reason="Investigator interviewed the complaining witness in a prior matter",
    )
    disclosed = _disclosures(u)
    agreements.send_due_reminders(actor=actor)
    return {"agreements": len(made), "records": records, "disclosures": disclosed}


def _consents(a: dict[str, Agency], actor: Actor) -> None:
    pd, nrtc, hha = a["HCPD"], a["NRTC"], a["HHA"]
    make_consent(
        nrtc,
        actor=actor,
        kind="part2",
        client_key="HC-0001",
        client_name=CLIENTS["HC-0001"],
        disclosers=[nrtc],
        recipients=[pd],
        categories=["substance_use_part2", "mental_health"],
        purposes=[DEFENSE, TREATMENT],
    )
    make_consent(
        pd,
        actor=actor,
        kind="general",
        client_key="HC-0002",
        client_name=CLIENTS["HC-0002"],
        disclosers=[pd],
        recipients=[hha],
        categories=["identity", "contact", "housing", "benefits"],
        purposes=[SERVICES],
    )
    revoked = make_consent(
        nrtc,
        actor=actor,
        kind="part2",
        client_key="HC-0003",
        client_name=CLIENTS["HC-0003"],
        disclosers=[nrtc],
        recipients=[pd],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
    )
    revoke_consent(
        revoked,
        actor=actor,
        method="In writing, delivered to the program",
        note="Client asked that the program stop sharing",
    )
    make_consent(
        pd,
        actor=actor,
        kind="general",
        client_key="HC-0004",
        client_name=CLIENTS["HC-0004"],
        disclosers=[pd],
        recipients=[nrtc],
        categories=["identity", "contact", "case_status"],
        purposes=[TREATMENT],
    )


RECORDS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("HCJ", "HC-0001", "custody", "Booked 02:14, held on $5,000 bond", ()),
    ("HCJ", "HC-0002", "custody", "Booked 23:40, released on recognizance", ()),
    ("HCJ", "HC-0003", "custody", "Transferred to medical housing unit", ()),
    ("HCJ", "HC-0004", "identity", "Booking photograph and identifiers", ()),
    ("HCJ", "HC-0005", "custody", "Booked 09:05, classification pending", ()),
    ("HCJ", "HC-0006", "charges", "Arrest charges as booked (juvenile transfer)", ("juvenile",)),
    ("HCJ", "HC-0006", "custody", "Prior booking, record sealed by order", ("sealed",)),
    ("HCCC", "HC-0001", "court_events", "Arraignment set for next Tuesday, courtroom 4B", ()),
    ("HCCC", "HC-0002", "court_events", "Pretrial conference continued", ()),
    ("HCCC", "HC-0005", "case_status", "Case bound over to grand jury", ()),
    ("HCAPP", "HC-0004", "case_status", "On probation, reporting monthly", ()),
    ("NRTC", "HC-0001", "substance_use_part2", "Intake assessment completed", ()),
    ("NRTC", "HC-0001", "mental_health", "Co-occurring disorder screening", ()),
    ("NRTC", "HC-0003", "substance_use_part2", "Attending outpatient group twice weekly", ()),
    ("HHA", "HC-0002", "housing", "On the waiting list for transitional housing", ()),
    ("HCPD", "HC-0001", "privileged_work_product", "Attorney notes on suppression theory", ()),
    ("HCPD", "HC-0002", "housing", "Client is at risk of eviction", ()),
    ("HCPD", "HC-0004", "case_status", "Plea offer under discussion", ("privileged",)),
)


def _records(a: dict[str, Agency], actor: Actor) -> int:
    now = timezone.now()
    for index, (owner, client, category, summary, labels) in enumerate(RECORDS):
        register_record(
            a[owner],
            actor=actor,
            client_key=client,
            category=category,
            summary=summary,
            labels=labels,
            recorded_at=now - timedelta(hours=5 * index + 1),
        )
    return len(RECORDS)


def _disclosures(u: dict[str, User]) -> int:
    """Dana reads her clients' records once, as the defense would: the accounting of
    disclosures then has something to show."""
    from accord.policy.models import ClientRecord

    dana = actor_for_user(u["dana.attorney"])
    visible = list(ClientRecord.objects.visible_to(dana, DEFENSE))
    decisions = decide_many(dana, "view", [Resource.of(r) for r in visible], DEFENSE)
    return len(record_disclosures(decisions, actor=dana))
