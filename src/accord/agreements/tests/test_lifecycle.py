from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.agreements import actions
from accord.agreements.content import content_hash
from accord.agreements.dryrun import dry_run
from accord.agreements.measurement import compliance
from accord.agreements.models import (
    AgreementStatus,
    ObligationMeasure,
    Reminder,
    VersionStatus,
)
from accord.agreements.testing import make_agreement, on_day, term
from accord.core.actors import SYSTEM
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied
from accord.policy.actions import register_record
from accord.policy.engine import Resource, decide

DEFENSE = "defense_representation"


def _custody(county):
    return Resource(county.jail.pk, "C-1", "custody")


def _attorney(county):
    return actor_for_user(county.defender_attorney)


def _jail_mou(county, **kwargs):
    return make_agreement(
        "MOU-2026-04",
        [(county.defender, county.defender_admin), (county.jail, county.jail_admin)],
        [term("3.2", county.jail, county.defender, ["custody"], [DEFENSE])],
        obligations=[
            {
                "clause": "4.1",
                "party": county.jail.pk,
                "counterparty": county.defender.pk,
                "description": "Notify the defender of each booking",
                "measure": ObligationMeasure.EVENT_DELIVERED,
                "subject": "booking",
                "within_hours": 24,
            }
        ],
        escalation=[
            ("Line staff", 5),
            ("Supervisors", 10),
            ("Agency heads", 20),
            ("Coordinating council", None),
        ],
        **kwargs,
    )


def test_it_puts_an_agreement_in_force_once_every_party_signed(county):
    agreement = _jail_mou(county, signers=[county.defender_admin])
    version = agreement.versions.get()
    assert version.status == VersionStatus.AWAITING_SIGNATURES
    assert not decide(_attorney(county), "view", _custody(county), DEFENSE).allowed
    actions.sign_version(version, actor=actor_for_user(county.jail_admin), reauthenticated=True)
    version.refresh_from_db()
    agreement.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE
    assert agreement.status == AgreementStatus.ACTIVE
    assert decide(_attorney(county), "view", _custody(county), DEFENSE).allowed


def test_it_records_who_signed_which_hash_when(county):
    agreement = _jail_mou(county)
    version = agreement.versions.get()
    signatures = list(version.signatures.order_by("pk"))
    assert [s.signer_id for s in signatures] == [county.defender_admin.pk, county.jail_admin.pk]
    assert {s.content_hash for s in signatures} == {version.content_hash}
    assert version.content_hash == content_hash(version)
    assert all(s.signed_at for s in signatures)


def test_it_refuses_a_signature_without_reauthentication_or_authority(county):
    agreement = _jail_mou(county, signers=[])
    version = agreement.versions.get()
    with pytest.raises(PermissionDenied):
        actions.sign_version(
            version, actor=actor_for_user(county.jail_admin), reauthenticated=False
        )
    with pytest.raises(PermissionDenied):
        actions.sign_version(
            version, actor=actor_for_user(county.jail_officer), reauthenticated=True
        )
    actions.sign_version(version, actor=actor_for_user(county.jail_admin), reauthenticated=True)
    with pytest.raises(ActionRefused):
        actions.sign_version(version, actor=actor_for_user(county.jail_admin), reauthenticated=True)


def test_it_waits_for_the_effective_date_after_the_last_signature(county):
    start = timezone.localdate() + timedelta(days=3)
    agreement = _jail_mou(county, effective_on=start)
    version = agreement.versions.get()
    assert version.status == VersionStatus.SIGNED
    assert actions.activate_due(actor=SYSTEM) == 0
    assert actions.activate_due(actor=SYSTEM, today=start) == 1
    version.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE


def test_it_freezes_a_version_sent_for_signature(county):
    agreement = _jail_mou(county, signers=[county.defender_admin])
    version = agreement.versions.get()
    with pytest.raises(ActionRefused):
        actions.add_term(
            version,
            actor=SYSTEM,
            **term("3.2", county.jail, county.defender, ["identity"], [DEFENSE]),
        )
    actions.return_to_negotiation(version, actor=SYSTEM, reason="Add identity data")
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_NEGOTIATION
    assert not version.signatures.filter(voided_at__isnull=True).exists()
    assert version.signatures.filter(voided_at__isnull=False).count() == 1


def test_it_refuses_to_send_a_version_that_is_not_ready(county):
    agreement = actions.create_agreement(
        actor=SYSTEM,
        reference="MOU-X",
        title="X",
        kind="mou",
        effective_on=timezone.localdate(),
        expires_on=timezone.localdate() + timedelta(days=30),
        parties=[(county.defender, "mutual")],
    )
    version = agreement.versions.get()
    with pytest.raises(InvalidInput) as raised:
        actions.request_signatures(version, actor=SYSTEM)
    reasons = " ".join(e["reason"] for e in raised.value.errors)
    assert "at least two parties" in reasons
    assert "no authorized signatory" in reasons
    assert "no text" in reasons


def test_it_refuses_terms_that_could_never_take_effect(county):
    agreement = _jail_mou(county, signers=[])
    actions.return_to_negotiation(agreement.versions.get(), actor=SYSTEM, reason="edit")
    version = agreement.versions.get()
    for categories, consent, field in (
        (["privileged_work_product"], "none", "categories"),
        (["sealed"], "none", "categories"),
        (["substance_use_part2"], "client", "consent"),
    ):
        with pytest.raises(InvalidInput) as raised:
            actions.add_term(
                version,
                actor=SYSTEM,
                **term("3.2", county.jail, county.defender, categories, [DEFENSE], consent=consent),
            )
        assert raised.value.errors[0]["field"] == field
    with pytest.raises(InvalidInput):
        actions.add_term(
            version, actor=SYSTEM, **term("3.2", county.jail, county.court, ["custody"], [DEFENSE])
        )


def test_it_stops_every_flow_when_terminated(county):
    agreement = _jail_mou(county)
    assert decide(_attorney(county), "view", _custody(county), DEFENSE).allowed
    actions.terminate_agreement(agreement, actor=SYSTEM, reason="Breach")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.TERMINATED
    assert not decide(_attorney(county), "view", _custody(county), DEFENSE).allowed


def test_it_supersedes_a_version_when_its_amendment_comes_into_force(county):
    agreement = _jail_mou(county)
    amendment = actions.amend(agreement, actor=SYSTEM, change_summary="Add identity")
    assert amendment.number == 2
    assert amendment.terms.count() == 1
    actions.add_term(
        amendment,
        actor=SYSTEM,
        **term("3.2", county.jail, county.defender, ["identity"], [DEFENSE]),
    )
    identity = Resource(county.jail.pk, "C-1", "identity")
    assert not decide(_attorney(county), "view", identity, DEFENSE).allowed
    actions.request_signatures(amendment, actor=SYSTEM)
    for signer in (county.defender_admin, county.jail_admin):
        amendment.refresh_from_db()
        actions.sign_version(amendment, actor=actor_for_user(signer), reauthenticated=True)
    versions = {v.number: v.status for v in agreement.versions.all()}
    assert versions == {1: VersionStatus.SUPERSEDED, 2: VersionStatus.ACTIVE}
    decision = decide(_attorney(county), "view", identity, DEFENSE)
    assert decision.allowed
    assert decision.reasons[0].policy_id.startswith("agreement/MOU-2026-04/v2/")


def test_it_marks_an_agreement_expired_on_the_first_run_after_its_end(county):
    today = timezone.localdate()
    with on_day(today - timedelta(days=400)):
        agreement = _jail_mou(
            county, effective_on=today - timedelta(days=400), expires_on=today - timedelta(days=1)
        )
    assert agreement.status == AgreementStatus.ACTIVE
    assert not decide(_attorney(county), "view", _custody(county), DEFENSE).allowed
    actions.activate_due(actor=SYSTEM)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED


def test_it_reminds_the_parties_once_per_lead_time(county, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    agreement = _jail_mou(
        county, expires_on=today + timedelta(days=45), review_on=today + timedelta(days=20)
    )
    assert actions.send_due_reminders(actor=SYSTEM) == 2
    assert actions.send_due_reminders(actor=SYSTEM) == 0
    kinds = sorted(Reminder.objects.values_list("kind", "days_before"))
    assert kinds == [("expiry", 60), ("review", 30)]
    assert len(mail.outbox) == 2
    assert "MOU-2026-04" in mail.outbox[0].subject
    assert actions.send_due_reminders(actor=SYSTEM, today=today + timedelta(days=20)) == 1
    assert agreement.reminder_day_list == [60, 30]


def test_it_dry_runs_an_amendment_over_the_records_in_the_database(county):
    agreement = _jail_mou(county)
    for n in range(3):
        register_record(
            county.jail, actor=SYSTEM, client_key=f"C-{n}", category="custody", summary="booking"
        )
    register_record(
        county.jail, actor=SYSTEM, client_key="C-9", category="identity", summary="photo"
    )
    amendment = actions.amend(agreement, actor=SYSTEM)
    actions.remove_term(amendment.terms.get(), actor=SYSTEM)
    actions.add_term(
        amendment,
        actor=SYSTEM,
        **term("3.2", county.jail, county.defender, ["identity"], [DEFENSE]),
    )
    result = dry_run(amendment)
    started = {(f.category, f.action): f.records for f in result.started}
    stopped = {(f.category, f.action): f.records for f in result.stopped}
    assert started == {("identity", "view"): 1, ("identity", "notify"): 1}
    assert stopped == {("custody", "view"): 3, ("custody", "notify"): 3}
    assert result.stopped[0].clients == 3
    # Nothing was changed by asking.
    assert decide(_attorney(county), "view", _custody(county), DEFENSE).allowed


def test_it_measures_attested_obligations(county):
    agreement = _jail_mou(county)
    events = agreement.versions.get().obligations.get()
    # The exchange measures delivered events; none has arrived yet.
    assert compliance(events).words == "nothing to measure in this period yet"
    # A version in force cannot gain obligations: an amendment adds one.
    amendment = actions.amend(agreement, actor=SYSTEM)
    reporting = actions.add_obligation(
        amendment,
        actor=SYSTEM,
        clause="4.1",
        party=county.jail.pk,
        description="Quarterly data quality attestation",
        measure=ObligationMeasure.ATTESTATION,
    )
    today = timezone.localdate()
    actions.attest_obligation(
        reporting,
        actor=actor_for_user(county.jail_admin),
        period_start=today - timedelta(days=90),
        period_end=today,
        met=True,
    )
    with pytest.raises(PermissionDenied):
        actions.attest_obligation(
            reporting,
            actor=actor_for_user(county.defender_admin),
            period_start=today,
            period_end=today,
            met=True,
        )
    result = compliance(reporting, since=timezone.now() - timedelta(days=100))
    assert (result.measured, result.met, result.percent) == (1, 1, 100)
