"""Background work of the audit log: signing its head every hour."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from accord.audit import chain
from accord.core.actors import SYSTEM
from accord.core.schedule import every


@every(timedelta(hours=1))
@task()
def sign_audit_checkpoint() -> int | None:
    """Sign the chain head so truncating the tail or rewriting the chain is caught by
    `accord audit verify`. Returns the signed sequence number, or None if nothing new."""
    from accord.audit.actions import sign_checkpoint

    if not chain.can_sign():
        return None
    checkpoint = sign_checkpoint(actor=SYSTEM)
    return checkpoint.seq if checkpoint is not None else None
