from __future__ import annotations

import pytest

from accord.accounts.identity import actor_for_user
from accord.consent.actions import (
    activate_consent,
    end_consent,
    record_consent,
    revoke_consent,
    update_consent,
)
from accord.consent.models import Consent, ConsentStatus
from accord.consent.testing import complete_values
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied


def _values(county, **overrides):
    values = complete_values(
        kind="part2",
        client_key="C-1",
        disclosers=[county.provider],
        recipients=[county.defender],
        categories=["substance_use_part2"],
        purposes=["defense_representation"],
    )
    values.update(overrides)
    return values


def test_it_names_every_missing_element_of_a_part2_consent(county):
    worker = actor_for_user(county.provider_case_worker)
    values = _values(
        county,
        revocation_statement="",
        expires_on=None,
        expiry_event="",
        information_description="",
    )
    with pytest.raises(InvalidInput) as raised:
        record_consent(actor=worker, activate=True, **values)
    message = raised.value.detail
    assert "42 CFR 2.31(a)(3)" in message
    assert "42 CFR 2.31(a)(6) the patient's right to revoke" in message
    assert "42 CFR 2.31(a)(7) an expiration date or an expiration event" in message
    fields = {e["field"] for e in raised.value.errors}
    assert fields == {"information_description", "revocation_statement", "expires_on"}
    assert not Consent.objects.exists()


def test_it_saves_an_incomplete_part2_consent_as_a_draft_only(county):
    worker = actor_for_user(county.provider_case_worker)
    consent = record_consent(actor=worker, **_values(county, revocation_statement=""))
    assert consent.status == ConsentStatus.DRAFT
    with pytest.raises(InvalidInput, match=r"2\.31\(a\)\(6\)"):
        activate_consent(consent, actor=worker)
    update_consent(consent, actor=worker, revocation_statement="Write to the program to revoke.")
    activate_consent(consent, actor=worker)
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE


def test_it_accepts_an_expiry_event_instead_of_a_date(county):
    worker = actor_for_user(county.provider_case_worker)
    consent = record_consent(
        actor=worker,
        activate=True,
        **_values(county, expires_on=None, expiry_event="End of my case"),
    )
    assert consent.status == ConsentStatus.ACTIVE
    end_consent(consent, actor=worker, note="Case dismissed on 2026-01-04")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ENDED


def test_it_never_combines_proceedings_with_another_purpose(county):
    worker = actor_for_user(county.provider_case_worker)
    with pytest.raises(InvalidInput, match="cannot be saved") as raised:
        record_consent(
            actor=worker,
            activate=True,
            **_values(county, kind="proceedings", purposes=["prosecution", "treatment"]),
        )
    assert "cannot be combined" in raised.value.errors[0]["reason"]
    with pytest.raises(InvalidInput) as raised:
        record_consent(actor=worker, activate=True, **_values(county, purposes=["prosecution"]))
    assert "its own consent" in raised.value.errors[0]["reason"]


def test_it_requires_part2_information_in_a_part2_consent(county):
    worker = actor_for_user(county.provider_case_worker)
    with pytest.raises(InvalidInput) as raised:
        record_consent(actor=worker, activate=True, **_values(county, categories=["housing"]))
    assert raised.value.errors[0]["field"] == "categories"


def test_it_lets_a_general_consent_omit_part2_only_elements(county):
    attorney = actor_for_user(county.defender_attorney)
    consent = record_consent(
        actor=attorney,
        activate=True,
        **_values(
            county,
            kind="general",
            categories=["housing"],
            revocation_statement="",
            information_description="",
            purpose_description="",
        ),
    )
    assert consent.status == ConsentStatus.ACTIVE


def test_it_rejects_unknown_codes_and_fields(county):
    worker = actor_for_user(county.provider_case_worker)
    with pytest.raises(InvalidInput) as raised:
        record_consent(actor=worker, **_values(county, categories=["gossip"], colour="red"))
    fields = {e["field"] for e in raised.value.errors}
    assert {"categories", "colour"} <= fields


def test_it_lets_only_consent_takers_record(county):
    with pytest.raises(PermissionDenied):
        record_consent(actor=actor_for_user(county.jail_officer), **_values(county))
    with pytest.raises(PermissionDenied):
        record_consent(actor=actor_for_user(county.defender_auditor), **_values(county))


def test_it_revokes_once_and_keeps_the_consent_on_record(county):
    worker = actor_for_user(county.provider_case_worker)
    consent = record_consent(actor=worker, activate=True, **_values(county))
    revoke_consent(consent, actor=worker, method="in writing", note="letter of 2026-02-01")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED
    assert consent.revoked_at is not None
    with pytest.raises(ActionRefused):
        revoke_consent(consent, actor=worker, method="again")
    with pytest.raises(ActionRefused):
        update_consent(consent, actor=worker, client_name="Someone else")


def test_it_lets_a_named_discloser_record_a_revocation(county):
    consent = record_consent(
        actor=actor_for_user(county.defender_attorney),
        activate=True,
        **_values(county, kind="general", categories=["housing"], disclosers=[county.provider.pk]),
    )
    revoke_consent(consent, actor=actor_for_user(county.provider_case_worker), method="by phone")
    with pytest.raises(PermissionDenied):
        revoke_consent(consent, actor=actor_for_user(county.jail_officer), method="x")


def test_it_shows_consents_to_the_recorder_and_named_agencies_only(county):
    consent = record_consent(
        actor=actor_for_user(county.provider_case_worker), activate=True, **_values(county)
    )

    def sees(persona):
        return (
            Consent.objects.visible_to(actor_for_user(county.people[persona]))
            .filter(pk=consent.pk)
            .exists()
        )

    assert sees("provider_case_worker")
    assert sees("defender_attorney")
    assert sees("council_auditor")
    assert not sees("jail_officer")
    assert not sees("outsider")
    assert not sees("coordinator")
