"""The tamper-evident audit log: append-only, hash-chained, checkpointed with signatures."""

from __future__ import annotations

from typing import Any

from django.db import models

from accord.audit.codes import AuditAction, Outcome
from accord.core.access import RestrictedQuerySet
from accord.core.actors import Actor

ACTION_LABELS: dict[str, str] = dict(AuditAction.choices)


def reads_every_agency(actor: Actor) -> bool:
    """A coordinating council's auditors oversee the whole partnership."""
    return (
        actor.scopes is None
        and actor.has_role("auditor")
        and actor.attributes.get("agency_kind") == "coordinating_council"
    )


class AuditEventQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "audit") -> AuditEventQuerySet:
        """Auditors read their own agency's events; a coordinating council's auditors read all.
        An agency system's token with the ``audit:read`` scope reads its own agency's events
        (never more, even a council's token: a token is narrower than a person)."""
        if actor.is_system:
            return self
        if actor.agency_id is None:
            # Filtering on agency_id=None would match the events that belong to no agency.
            return self.none()
        if actor.scopes is not None:
            if "audit:read" in actor.scopes:
                return self.filter(agency_id=actor.agency_id)
            return self.none()
        if not actor.has_role("auditor"):
            return self.none()
        if reads_every_agency(actor):
            return self
        return self.filter(agency_id=actor.agency_id)


class AuditEvent(models.Model):
    """One thing that happened. Never updated or deleted: each row's hash covers its
    canonical content and the previous row's hash, so any edit, deletion, insertion or
    reordering breaks the chain that ``accord audit verify`` walks."""

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    actor_label = models.CharField(max_length=150, db_index=True)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    agency_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_label = models.CharField(max_length=200, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    source_ip = models.CharField(max_length=45, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        # Each filter of the audit log, with seq last: "newest first, 50 at a time" is then
        # one index range scan however long the log (measured in bench/audit_log_page.py).
        indexes = [
            models.Index(fields=["agency_id", "seq"], name="audit_evt_agency_seq"),
            # An agency's events in a time window (the home page's "last 24 hours").
            models.Index(fields=["agency_id", "occurred_at"], name="audit_evt_agency_time"),
            models.Index(fields=["action", "seq"], name="audit_evt_action_seq"),
            models.Index(fields=["actor_user_id", "seq"], name="audit_evt_actor_seq"),
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_evt_object_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only")

    @property
    def action_label(self) -> str:
        """The action's words ("Signed in"), or its code if this version does not know it."""
        return ACTION_LABELS.get(self.action, self.action)


class AuditCheckpoint(models.Model):
    """An Ed25519 signature over the chain head at ``seq``: detects truncation of the tail
    and a rewrite of the whole chain by anyone without the signing key."""

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    public_key = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.seq}"
