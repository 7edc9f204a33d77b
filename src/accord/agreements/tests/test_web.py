"""Agreement pages and API: the permission matrix of every page and endpoint, the editor,
signing after re-authentication, the dry run, the diff, bounded query counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import SESSION_REAUTH_AT
from accord.agreements import actions
from accord.agreements.models import Agreement, AgreementStatus, VersionStatus
from accord.agreements.testing import make_agreement, term
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix

pytestmark = pytest.mark.django_db
API = "/api/v1/agreements"
DEFENSE = "defense_representation"


def fresh(user):
    client = as_(user)
    session = client.session
    session[SESSION_REAUTH_AT] = timezone.now().timestamp()
    session.save()
    return client


@pytest.fixture
def mou(county):
    return make_agreement(
        "MOU-1",
        [(county.defender, county.defender_admin), (county.jail, county.jail_admin)],
        [term("3.2", county.jail, county.defender, ["custody"], [DEFENSE])],
        obligations=[
            {
                "clause": "4.1",
                "party": county.jail.pk,
                "description": "Attest quality",
                "measure": "attestation",
            }
        ],
        escalation=[("Supervisors", 10)],
    )


@pytest.fixture
def draft(county):
    agreement = actions.create_agreement(
        actor=SYSTEM,
        reference="MOU-2",
        title="Draft",
        kind="mou",
        effective_on=timezone.localdate(),
        expires_on=timezone.localdate() + timedelta(days=300),
        body="1. Purpose.\n2.1 Sharing.",
        parties=[(county.defender, "mutual"), (county.jail, "mutual")],
    )
    for agency, signer in (
        (county.defender, county.defender_admin),
        (county.jail, county.jail_admin),
    ):
        actions.set_party(agreement, agency, actor=SYSTEM, role="mutual", signatory=signer)
    return agreement


PARTY_READERS = {
    None: 302,
    "defender_attorney": 200,
    "jail_officer": 200,
    "coordinator": 200,
    "council_auditor": 200,
    "court_clerk": 404,
    "outsider": 404,
}
MANAGERS = {
    None: 302,
    "defender_admin": 200,
    "jail_admin": 200,
    "coordinator": 200,
    "defender_attorney": 403,
    "court_clerk": 404,
    "outsider": 404,
}


def test_it_opens_the_agreement_pages_to_parties_and_the_council(county, mou, draft):
    check_matrix(
        county, "GET", "/agreements/", {None: 302, "outsider": 200, "defender_attorney": 200}
    )
    check_matrix(county, "GET", f"/agreements/{mou.pk}/", PARTY_READERS)
    check_matrix(county, "GET", f"/agreements/{mou.pk}/diff", PARTY_READERS)
    check_matrix(
        county,
        "GET",
        "/agreements/new",
        {
            None: 302,
            "defender_admin": 200,
            "coordinator": 200,
            "defender_attorney": 403,
            "outsider": 403,
        },
    )
    check_matrix(county, "GET", f"/agreements/{draft.pk}/versions/1/edit", MANAGERS)
    check_matrix(county, "GET", f"/agreements/{draft.pk}/parties", MANAGERS)
    check_matrix(county, "GET", f"/agreements/{draft.pk}/versions/1/dry-run", MANAGERS)


def test_it_lists_agreements_in_a_bounded_number_of_queries(
    county, mou, django_assert_max_num_queries
):
    for n in range(10):
        actions.create_agreement(
            actor=SYSTEM,
            reference=f"MOU-X{n}",
            title="x",
            kind="mou",
            effective_on=timezone.localdate(),
            expires_on=timezone.localdate() + timedelta(days=30),
            parties=[(county.defender, "mutual"), (county.jail, "mutual")],
        )
    client = as_(county.coordinator)
    client.get("/agreements/")
    with django_assert_max_num_queries(20):
        assert client.get("/agreements/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(API).status_code == 200


def test_it_shows_terms_in_plain_language_and_compiled(county, mou):
    body = as_(county.defender_attorney).get(f"/agreements/{mou.pk}/").content.decode()
    assert "MOU-1 §3.2: TCJ → TPD, custody events, for defense representation" in body
    assert "permit (" in body
    assert "Supervisors" in body


def test_it_edits_a_draft_through_the_tables(county, draft):
    client = as_(county.defender_admin)
    url = f"/agreements/{draft.pk}/versions/1/edit"
    response = client.post(
        url,
        {
            "form": "term",
            "clause": "2.1",
            "discloser": county.jail.pk,
            "recipient": county.defender.pk,
            "categories": ["custody"],
            "purposes": [DEFENSE],
            "actions": ["view"],
            "consent": "none",
        },
    )
    assert response.status_code == 302
    refused = client.post(
        url,
        {
            "form": "term",
            "clause": "2.1",
            "discloser": county.jail.pk,
            "recipient": county.defender.pk,
            "categories": ["privileged_work_product"],
            "purposes": [DEFENSE],
            "actions": ["view"],
            "consent": "none",
        },
    )
    assert "never leaves its agency" in refused.content.decode()
    client.post(url, {"form": "step", "level": "Agency heads", "within_days": 20})
    client.post(
        url,
        {
            "form": "obligation",
            "clause": "2.1",
            "party": county.jail.pk,
            "description": "Notify",
            "measure": "event_delivered_within",
            "subject": "booking",
            "within_hours": 24,
            "target_percent": 95,
        },
    )
    version = draft.versions.get()
    assert version.terms.count() == 1
    assert version.escalation_steps.count() == 1
    assert version.obligations.count() == 1
    term_id = version.terms.get().pk
    assert client.post(url, {"form": "delete-term", "id": term_id}).status_code == 302
    assert version.terms.count() == 0


def test_it_signs_after_reauthentication_only(county, draft):
    version = draft.versions.get()
    actions.request_signatures(version, actor=SYSTEM)
    url = f"/agreements/{draft.pk}/versions/1/sign"
    assert as_(county.defender_attorney).get(url).status_code == 403
    assert as_(county.court_clerk).get(url).status_code == 404
    stale = as_(county.defender_admin).get(url)
    assert stale.status_code == 302
    assert "/accounts/" in stale["Location"]
    client = fresh(county.defender_admin)
    page = client.get(url)
    assert version.content_hash in page.content.decode()
    signed = client.post(url, {"confirm": "on", "content_hash": version.content_hash})
    assert signed.status_code == 302
    fresh(county.jail_admin).post(url, {"confirm": "on", "content_hash": version.content_hash})
    version.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE


def test_it_terminates_after_reauthentication_only(county, mou):
    url = f"/agreements/{mou.pk}/terminate"
    assert as_(county.defender_attorney).get(url).status_code == 403
    assert as_(county.defender_admin).post(url, {"reason": "x"}).status_code == 302
    mou.refresh_from_db()
    assert mou.status == AgreementStatus.ACTIVE
    assert fresh(county.defender_admin).post(url, {"reason": "Breach"}).status_code == 302
    mou.refresh_from_db()
    assert mou.status == AgreementStatus.TERMINATED


def test_it_moves_through_the_lifecycle_from_the_page(county, mou, draft):
    client = as_(county.coordinator)
    assert client.post(f"/agreements/{draft.pk}/versions/1/do/negotiate").status_code == 302
    assert draft.versions.get().status == VersionStatus.IN_NEGOTIATION
    assert client.post(f"/agreements/{mou.pk}/do/review").status_code == 302
    assert Agreement.objects.get(pk=mou.pk).status == AgreementStatus.UNDER_REVIEW
    assert client.post(f"/agreements/{mou.pk}/do/amend").status_code == 302
    assert mou.versions.count() == 2
    assert as_(county.defender_attorney).post(f"/agreements/{mou.pk}/do/review").status_code == 403
    assert as_(county.outsider).post(f"/agreements/{mou.pk}/do/review").status_code == 404
    diff = client.get(f"/agreements/{mou.pk}/diff?from=1&to=2")
    assert diff.status_code == 200


def test_it_attests_obligations_of_ones_own_agency(county, mou):
    obligation = mou.versions.get().obligations.get()
    url = f"/agreements/{mou.pk}/obligations/{obligation.pk}/attest"
    today = timezone.localdate().isoformat()
    data = {"period_start": today, "period_end": today, "met": "yes"}
    assert as_(county.defender_admin).post(url, data).status_code == 403
    assert as_(county.outsider).post(url, data).status_code == 404
    assert as_(county.jail_admin).post(url, data).status_code == 302
    assert obligation.attestations.count() == 1


# --- API -------------------------------------------------------------------------------------

API_READERS = {None: 401, "defender_attorney": 200, "coordinator": 200, "outsider": 404}


def _json(client, method, url, body=None):
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json")


def test_it_answers_the_agreement_api_reads_by_party(county, mou):
    check_matrix(county, "GET", API, {None: 401, "outsider": 200, "defender_attorney": 200})
    check_matrix(county, "GET", f"{API}/{mou.pk}", API_READERS)
    check_matrix(county, "GET", f"{API}/{mou.pk}/versions/1", API_READERS)
    obligation = mou.versions.get().obligations.get()
    check_matrix(
        county, "GET", f"{API}/{mou.pk}/obligations/{obligation.pk}/compliance", API_READERS
    )
    check_matrix(
        county,
        "GET",
        f"{API}/{mou.pk}/versions/1/dry-run",
        {
            None: 401,
            "defender_admin": 200,
            "coordinator": 200,
            "defender_attorney": 403,
            "outsider": 404,
        },
    )
    actions.amend(mou, actor=SYSTEM)
    check_matrix(county, "GET", f"{API}/{mou.pk}/diff?from_version=1&to_version=2", API_READERS)
    version = as_(county.defender_attorney).get(f"{API}/{mou.pk}/versions/1").json()
    assert version["terms"][0]["policy"].startswith('@id("agreement/MOU-1/v1/§3.2/term-')


def test_it_drafts_and_signs_over_the_api(county):
    body = {
        "reference": "DSA-9",
        "title": "Court data",
        "kind": "data_sharing",
        "effective_on": timezone.localdate().isoformat(),
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "body": "1. Purpose.\n2.1 Court events.",
        "parties": [
            {"agency_id": county.court.pk, "role": "discloser"},
            {"agency_id": county.defender.pk, "role": "recipient"},
        ],
    }
    check_matrix(
        county, "POST", API, {None: 401, "defender_attorney": 403, "outsider": 403}, data=body
    )
    coordinator = as_(county.coordinator)
    created = _json(coordinator, "POST", API, body)
    assert created.status_code == 201
    pk = created.json()["id"]
    for agency, signer in (
        (county.court, county.court_clerk),
        (county.defender, county.defender_admin),
    ):
        response = _json(
            coordinator,
            "PUT",
            f"{API}/{pk}/parties/{agency.pk}",
            {"role": "mutual", "signatory_id": signer.pk},
        )
        assert response.status_code == 200
    term_body = {
        "clause": "2.1",
        "discloser_id": county.court.pk,
        "recipient_id": county.defender.pk,
        "categories": ["court_events"],
        "purposes": [DEFENSE],
        "actions": ["view", "notify"],
    }
    check_matrix(
        county,
        "POST",
        f"{API}/{pk}/versions/1/terms",
        {None: 401, "defender_attorney": 403, "outsider": 404, "jail_admin": 404},
        data=term_body,
    )
    assert _json(coordinator, "POST", f"{API}/{pk}/versions/1/terms", term_body).status_code == 201
    step = _json(
        coordinator,
        "POST",
        f"{API}/{pk}/versions/1/escalation",
        {"level": "Supervisors", "within_days": 10},
    )
    assert step.status_code == 201
    sent = _json(coordinator, "POST", f"{API}/{pk}/versions/1/transition", {"action": "send"})
    assert sent.json()["status"] == "awaiting_signatures"
    content_hash = sent.json()["content_hash"]
    url = f"{API}/{pk}/versions/1/sign"
    assert (
        _json(as_(county.court_clerk), "POST", url, {"content_hash": content_hash}).status_code
        == 403
    )
    assert (
        _json(fresh(county.court_clerk), "POST", url, {"content_hash": "0" * 64}).status_code == 422
    )
    assert (
        _json(fresh(county.court_clerk), "POST", url, {"content_hash": content_hash}).status_code
        == 200
    )
    final = _json(fresh(county.defender_admin), "POST", url, {"content_hash": content_hash})
    assert final.json()["status"] == "active"


def test_it_changes_terms_obligations_and_parties_of_drafts_only(county, draft, mou):
    coordinator = as_(county.coordinator)
    term_body = {
        "clause": "2.1",
        "discloser_id": county.jail.pk,
        "recipient_id": county.defender.pk,
        "categories": ["custody"],
        "purposes": [DEFENSE],
        "actions": ["view"],
    }
    term_id = _json(coordinator, "POST", f"{API}/{draft.pk}/versions/1/terms", term_body).json()[
        "id"
    ]
    patched = _json(
        coordinator,
        "PATCH",
        f"{API}/{draft.pk}/terms/{term_id}",
        {"categories": ["custody", "identity"]},
    )
    assert patched.json()["categories"] == ["custody", "identity"]
    obligation = _json(
        coordinator,
        "POST",
        f"{API}/{draft.pk}/versions/1/obligations",
        {
            "clause": "2.1",
            "party_id": county.jail.pk,
            "description": "Notify",
            "measure": "event_delivered_within",
            "subject": "booking",
            "within_hours": 24,
        },
    )
    assert obligation.status_code == 201
    assert (
        _json(
            coordinator, "DELETE", f"{API}/{draft.pk}/obligations/{obligation.json()['id']}"
        ).status_code
        == 204
    )
    assert _json(coordinator, "DELETE", f"{API}/{draft.pk}/terms/{term_id}").status_code == 204
    live_term = mou.versions.get().terms.get().pk
    assert _json(coordinator, "DELETE", f"{API}/{mou.pk}/terms/{live_term}").status_code == 409
    patched_version = _json(
        coordinator,
        "PATCH",
        f"{API}/{draft.pk}/versions/1",
        {"body": "1. Purpose.\n2.1 Sharing.\n2.2 More."},
    )
    assert patched_version.status_code == 200
    assert (
        _json(coordinator, "DELETE", f"{API}/{draft.pk}/parties/{county.jail.pk}").status_code
        == 204
    )


def test_it_terminates_over_the_api_only_after_reauthentication(county, mou):
    url = f"{API}/{mou.pk}/transition"
    body = {"action": "terminate", "reason": "Breach"}
    assert _json(as_(county.defender_admin), "POST", url, body).status_code == 403
    assert _json(as_(county.defender_attorney), "POST", url, body).status_code == 403
    assert _json(fresh(county.defender_admin), "POST", url, body).json()["status"] == "terminated"


def test_it_attests_over_the_api(county, mou):
    obligation = mou.versions.get().obligations.get()
    today = timezone.localdate().isoformat()
    body = {"period_start": today, "period_end": today, "met": True}
    check_matrix(
        county,
        "POST",
        f"{API}/{mou.pk}/obligations/{obligation.pk}/attestations",
        {None: 401, "defender_admin": 403, "outsider": 404, "jail_admin": 201},
        data=body,
    )


def test_it_refuses_every_change_to_non_managers(county, mou, draft):
    """Every write endpoint and page: anonymous, a party's staff without the role, a stranger."""
    version_term = draft.versions.get()
    term_id = actions.add_term(
        version_term,
        actor=SYSTEM,
        **term("2.1", county.jail, county.defender, ["custody"], [DEFENSE]),
    ).pk
    obligation_id = mou.versions.get().obligations.get().pk
    step_id = mou.versions.get().escalation_steps.get().pk
    refused = {None: 401, "defender_attorney": 403, "outsider": 404}
    for method, url, body in (
        ("PATCH", f"{API}/{draft.pk}/versions/1", {"body": "1. x"}),
        ("PUT", f"{API}/{draft.pk}/parties/{county.court.pk}", {"role": "mutual"}),
        ("DELETE", f"{API}/{draft.pk}/parties/{county.jail.pk}", None),
        (
            "POST",
            f"{API}/{draft.pk}/versions/1/terms",
            {
                "clause": "2.1",
                "discloser_id": county.jail.pk,
                "recipient_id": county.defender.pk,
                "categories": ["custody"],
                "purposes": [DEFENSE],
                "actions": ["view"],
            },
        ),
        ("PATCH", f"{API}/{draft.pk}/terms/{term_id}", {"clause": "2.1"}),
        ("DELETE", f"{API}/{draft.pk}/terms/{term_id}", None),
        (
            "POST",
            f"{API}/{draft.pk}/versions/1/obligations",
            {
                "clause": "2.1",
                "party_id": county.jail.pk,
                "description": "x",
                "measure": "attestation",
            },
        ),
        ("DELETE", f"{API}/{mou.pk}/obligations/{obligation_id}", None),
        ("POST", f"{API}/{draft.pk}/versions/1/escalation", {"level": "Heads"}),
        ("DELETE", f"{API}/{mou.pk}/escalation/{step_id}", None),
        ("POST", f"{API}/{draft.pk}/versions/1/transition", {"action": "negotiate"}),
        ("POST", f"{API}/{mou.pk}/transition", {"action": "review"}),
    ):
        check_matrix(county, method, url, refused, data=body)
    pages = {None: 302, "defender_attorney": 403, "outsider": 404}
    for url in (
        f"/agreements/{draft.pk}/versions/1/do/negotiate",
        f"/agreements/{mou.pk}/do/amend",
    ):
        check_matrix(county, "POST", url, pages)
    check_matrix(county, "GET", f"/agreements/{mou.pk}/terminate", pages)
    check_matrix(county, "POST", f"/agreements/{draft.pk}/versions/1/edit", pages)
    check_matrix(county, "POST", f"/agreements/{draft.pk}/parties", pages)
    assert draft.versions.get().terms.count() == 1
    assert Agreement.objects.get(pk=mou.pk).status == AgreementStatus.ACTIVE
