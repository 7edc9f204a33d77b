"""The web and API shell: headers, problem details, the OpenAPI document, the health check."""

from __future__ import annotations

import json

import pytest


@pytest.mark.django_db
def test_it_sends_a_content_security_policy_without_inline_script(client):
    response = client.get("/accounts/sign-in/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_it_echoes_a_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-12345678")
    assert response["X-Request-ID"] == "req-12345678"
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_replaces_an_unsafe_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_it_sends_anonymous_people_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/?next=")


@pytest.mark.django_db
def test_it_serves_the_openapi_document_and_docs(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "Accord API"
    assert document["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


@pytest.mark.django_db
def test_it_answers_unauthenticated_api_calls_with_a_problem(client):
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"


@pytest.mark.django_db
def test_it_rejects_a_bad_token_and_audits_it(client):
    from accord.audit.models import AuditEvent

    response = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer acc_nope_nope")
    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="token.rejected").count() == 1


@pytest.mark.django_db
def test_it_answers_unknown_api_paths_with_a_problem(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "No such resource: /api/v1/no/such/thing"
