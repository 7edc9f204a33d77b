"""The tamper-evident audit log: append-only, hash-chained, checkpointed with signatures."""

from __future__ import annotations

from typing import Any

from django.db import models

from accord.audit.codes import Outcome
from accord.core.access import RestrictedQuerySet
from accord.core.actors import Actor


class AuditEventQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "audit") -> AuditEventQuerySet:
        """Auditors read their own agency's events; a coordinating council's auditors read all."""
        if actor.is_system:
            return self
        if not actor.has_role("auditor") or actor.scopes is not None:
            return self.none()
        if actor.attributes.get("agency_kind") == "coordinating_council":
            return self
        return self.filter(agency_id=actor.agency_id)


class AuditEvent(models.Model):
    """One thing that happened. Never updated or deleted: each row's hash covers its
    canonical content and the previous row's hash, so any edit, deletion, insertion or
    reordering breaks the chain that ``accord audit verify`` walks."""

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    actor_label = models.CharField(max_length=150, db_index=True)
    actor_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    agency_id = models.BigIntegerField(null=True, blank=True, db_index=True)
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
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only")


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
