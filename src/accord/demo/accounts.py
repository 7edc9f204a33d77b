"""The demo county's agencies and sign-ins (documented in README and docs/demo.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "accord-demo-county"  # noqa: S105 - published demo credential, demo mode only


@dataclass(frozen=True)
class DemoAgency:
    short_name: str
    name: str
    kind: str
    identifier: str
    units: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    agency: str
    roles: tuple[str, ...]
    title: str
    unit: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


JURISDICTION = "Harmon County (DEMO)"

AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency(
        "HCPD",
        "Harmon County Public Defender",
        "public_defender",
        "PD-HC-01",
        ("Felony Trial Team", "Misdemeanor Unit", "Investigations", "Client Services"),
    ),
    DemoAgency("HCCC", "Harmon County Circuit Court", "court", "CT-HC-17", ("Criminal Clerk",)),
    DemoAgency("HCDA", "Harmon County District Attorney", "prosecutor", "DA-HC-01"),
    DemoAgency(
        "HCSO",
        "Harmon County Sheriff's Office",
        "law_enforcement",
        "HC0170000",
        ("Patrol Division",),
    ),
    DemoAgency("HCJ", "Harmon County Jail", "jail", "HC017013C", ("Booking", "Classification")),
    DemoAgency("HCAPP", "Harmon County Adult Probation", "probation", "PR-HC-01"),
    DemoAgency(
        "NRTC", "New Roads Treatment Center", "service_provider", "NPI-1234567893", ("Outpatient",)
    ),
    DemoAgency("HHA", "Harbor Housing Alliance", "service_provider", "HSDS-HHA"),
    DemoAgency("MHCS", "Mesa Health Community Services", "service_provider", "NPI-1588667638"),
    DemoAgency("RJP", "Restorative Justice Project", "community_organization", "CO-RJP"),
    DemoAgency(
        "HCJCC", "Harmon County Justice Coordinating Council", "coordinating_council", "CJCC-HC"
    ),
)

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "dana.attorney",
        "Dana",
        "Whitfield",
        "HCPD",
        ("attorney",),
        "Assistant Public Defender",
        "Felony Trial Team",
        {"bar_number": "DEMO-48213"},
    ),
    DemoPerson(
        "ivan.investigator",
        "Ivan",
        "Castellanos",
        "HCPD",
        ("investigator",),
        "Investigator",
        "Investigations",
    ),
    DemoPerson(
        "sofia.socialworker",
        "Sofia",
        "Nakamura",
        "HCPD",
        ("social_worker",),
        "Client Advocate",
        "Client Services",
        {"licensed_clinician": True},
    ),
    DemoPerson(
        "sam.supervisor",
        "Samuel",
        "Okafor",
        "HCPD",
        ("attorney", "supervisor"),
        "Chief Deputy Defender",
        "Felony Trial Team",
        {"bar_number": "DEMO-30117"},
    ),
    DemoPerson("alex.admin", "Alex", "Brennan", "HCPD", ("agency_admin",), "Systems Administrator"),
    DemoPerson("aubrey.auditor", "Aubrey", "Lindqvist", "HCPD", ("auditor",), "Compliance Officer"),
    DemoPerson(
        "carla.clerk",
        "Carla",
        "Jimenez",
        "HCCC",
        ("clerk",),
        "Deputy Court Clerk",
        "Criminal Clerk",
    ),
    DemoPerson(
        "paul.prosecutor",
        "Paul",
        "Hargrove",
        "HCDA",
        ("attorney",),
        "Assistant District Attorney",
        None,
        {"bar_number": "DEMO-51190"},
    ),
    DemoPerson(
        "owen.officer",
        "Owen",
        "Tate",
        "HCJ",
        ("officer",),
        "Booking Sergeant",
        "Booking",
        {"sworn_officer": True, "badge_number": "D-1187"},
    ),
    DemoPerson(
        "jamie.jailadmin", "Jamie", "Rourke", "HCJ", ("agency_admin",), "Jail IT Administrator"
    ),
    DemoPerson(
        "petra.probation",
        "Petra",
        "Vasquez",
        "HCAPP",
        ("officer",),
        "Probation Officer",
        None,
        {"sworn_officer": True},
    ),
    DemoPerson(
        "casey.caseworker",
        "Casey",
        "Moreau",
        "NRTC",
        ("case_worker",),
        "Recovery Case Manager",
        "Outpatient",
        {"part2_program": True},
    ),
    DemoPerson("hana.housing", "Hana", "Said", "HHA", ("case_worker",), "Housing Navigator"),
    DemoPerson(
        "cora.coordinator", "Cora", "Delacroix", "HCJCC", ("coordinator",), "Council Coordinator"
    ),
    DemoPerson("abe.auditor", "Abe", "Kowalski", "HCJCC", ("auditor",), "Partnership Auditor"),
)


def sign_in_help() -> str:
    lines = [
        "",
        "Demo sign-ins (DEMO data only). Password for every account: " + DEMO_PASSWORD,
        "The sign-in page shows each account's current one-time code in demo mode.",
    ]
    for person in PEOPLE:
        lines.append(f"  {person.username:<22} {person.title} ({person.agency})")
    return "\n".join(lines)
