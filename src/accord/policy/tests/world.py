"""The golden world: the test county with agreements in every state, consents of every
kind, a screen and a suspended agency, all built through the real actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accord.agreements.actions import terminate_agreement
from accord.agreements.testing import make_agreement, on_day, term
from accord.consent.actions import revoke_consent
from accord.consent.testing import make_consent
from accord.core.actors import SYSTEM
from accord.directory.actions import add_staff, suspend_agency
from accord.policy.actions import screen_staff

DEFENSE = "defense_representation"
TREATMENT = "treatment"
PROSECUTION = "prosecution"
ADJUDICATION = "adjudication"
CUSTODY_MGMT = "custody_management"
SERVICES = "social_services"


@dataclass
class World:
    county: Any
    agreements: dict[str, Any]
    consents: dict[str, Any]


def build_world(county) -> World:
    a = county.agencies
    p = county.people
    defender, jail, court = a["defender"], a["jail"], a["court"]
    prosecutor, provider, outsider = a["prosecutor"], a["provider"], a["outsider_org"]
    outsider_signatory = add_staff(
        outsider,
        actor=SYSTEM,
        username="outsider_director",
        first_name="Outsider",
        last_name="Director",
        email="outsider_director@test.invalid",
        roles=["agency_admin"],
    ).user
    today = timezone.localdate()
    d_sig, j_sig = p["defender_admin"], p["jail_admin"]
    c_sig, v_sig, p_sig = p["court_clerk"], p["provider_case_worker"], p["prosecutor"]
    agreements: dict[str, Any] = {}
    agreements["jail"] = make_agreement(
        "MOU-JAIL",
        [(defender, d_sig), (jail, j_sig)],
        [
            term("3.2", jail, defender, ["custody", "identity", "charges"], [DEFENSE]),
            term("3.3", jail, defender, ["criminal_history"], [DEFENSE], recipient_role="attorney"),
        ],
    )
    agreements["court"] = make_agreement(
        "MOU-COURT",
        [(defender, d_sig), (court, c_sig), (jail, j_sig)],
        [
            term(
                "2.1",
                court,
                jail,
                ["court_events"],
                [CUSTODY_MGMT],
                recipient_attributes=["sworn_officer"],
            ),
            term("2.2", defender, court, ["custody", "case_status"], [ADJUDICATION]),
            term("2.4", court, defender, ["court_events", "case_status"], [DEFENSE]),
        ],
    )
    agreements["qsoa"] = make_agreement(
        "QSOA-PROVIDER",
        [(defender, d_sig), (provider, v_sig)],
        [
            term(
                "4.1",
                provider,
                defender,
                ["substance_use_part2", "mental_health"],
                [DEFENSE, TREATMENT],
                consent="part2",
            ),
            term("4.2", defender, provider, ["housing", "benefits"], [TREATMENT], consent="client"),
        ],
        kind="qsoa",
    )
    agreements["da"] = make_agreement(
        "MOU-DA",
        [(prosecutor, p_sig), (provider, v_sig), (jail, j_sig)],
        [
            term(
                "2.1", provider, prosecutor, ["substance_use_part2"], [PROSECUTION], consent="part2"
            ),
            term("2.2", jail, prosecutor, ["custody"], [PROSECUTION]),
        ],
    )
    # Expired last month: signed two years ago for a year and eleven months.
    with on_day(today - timedelta(days=730)):
        agreements["expired"] = make_agreement(
            "MOU-OLD",
            [(defender, d_sig), (jail, j_sig)],
            [term("5.1", jail, defender, ["mental_health"], [DEFENSE])],
            effective_on=today - timedelta(days=730),
            expires_on=today - timedelta(days=30),
        )
    agreements["terminated"] = make_agreement(
        "MOU-TERM",
        [(defender, d_sig), (jail, j_sig)],
        [term("6.1", jail, defender, ["medical"], [DEFENSE])],
    )
    terminate_agreement(agreements["terminated"], actor=SYSTEM, reason="Replaced by practice")
    agreements["future"] = make_agreement(
        "MOU-FUTURE",
        [(defender, d_sig), (jail, j_sig)],
        [term("7.1", jail, defender, ["housing"], [DEFENSE])],
        effective_on=today + timedelta(days=10),
    )
    agreements["unsigned"] = make_agreement(
        "MOU-UNSIGNED",
        [(defender, d_sig), (jail, j_sig)],
        [term("8.1", jail, defender, ["employment"], [DEFENSE])],
        signers=[d_sig],
    )
    agreements["outsider"] = make_agreement(
        "MOU-OUT",
        [(outsider, outsider_signatory), (jail, j_sig)],
        [term("9.1", jail, outsider, ["custody"], [SERVICES])],
    )
    suspend_agency(outsider, "Data-handling breach under review", actor=SYSTEM)

    consents: dict[str, Any] = {}
    consents["C-100"] = make_consent(
        provider,
        kind="part2",
        client_key="C-100",
        disclosers=[provider],
        recipients=[defender],
        categories=["substance_use_part2", "mental_health"],
        purposes=[DEFENSE, TREATMENT],
    )
    consents["C-200"] = make_consent(
        provider,
        kind="general",
        client_key="C-200",
        disclosers=[provider],
        recipients=[defender],
        categories=["substance_use_part2", "mental_health"],
        purposes=[DEFENSE],
    )
    consents["C-300"] = make_consent(
        provider,
        kind="part2",
        client_key="C-300",
        disclosers=[provider],
        recipients=[defender],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
    )
    revoke_consent(consents["C-300"], actor=SYSTEM, method="in writing to the program")
    consents["C-400"] = make_consent(
        provider,
        kind="proceedings",
        client_key="C-400",
        disclosers=[provider],
        recipients=[prosecutor, defender],
        categories=["substance_use_part2"],
        purposes=[PROSECUTION],
    )
    consents["C-500"] = make_consent(
        defender,
        kind="general",
        client_key="C-500",
        disclosers=[defender],
        recipients=[provider],
        categories=["housing", "benefits"],
        purposes=[TREATMENT],
    )
    consents["C-800"] = make_consent(
        provider,
        kind="part2",
        client_key="C-800",
        disclosers=[provider],
        recipients=[defender],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
        signed_at=timezone.now() - timedelta(days=90),
        expires_on=today - timedelta(days=1),
    )
    consents["C-900"] = make_consent(
        provider,
        kind="part2",
        client_key="C-900",
        disclosers=[provider],
        recipients=[court],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
    )
    screen_staff(
        p["defender_investigator"],
        actor=SYSTEM,
        client_key="C-100",
        reason="Investigator formerly worked for the complaining witness",
    )
    return World(county, agreements, consents)
