from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.core.actors import SYSTEM
from accord.core.models import ScheduledJob
from accord.core.schedule import discover
from accord.core.schedule.actions import enqueue_due_jobs

CHECKPOINT = "accord.audit.tasks.sign_audit_checkpoint"
UPKEEP = "accord.agreements.tasks.agreement_upkeep"


def test_it_discovers_the_periodic_jobs_of_every_app():
    jobs = discover()
    assert jobs[CHECKPOINT].every == timedelta(hours=1)
    assert jobs[UPKEEP].every == timedelta(days=1)


@pytest.mark.django_db
def test_it_enqueues_each_job_once_per_interval():
    now = timezone.now()
    first = enqueue_due_jobs(actor=SYSTEM, now=now)
    assert {CHECKPOINT, UPKEEP} <= set(first)
    queued = DBTaskResult.objects.count()
    # The shortest interval is the digest run's 15 minutes.
    assert enqueue_due_jobs(actor=SYSTEM, now=now + timedelta(minutes=10)) == []
    assert DBTaskResult.objects.count() == queued
    later = enqueue_due_jobs(actor=SYSTEM, now=now + timedelta(hours=1, seconds=1))
    assert CHECKPOINT in later
    assert UPKEEP not in later
    assert ScheduledJob.objects.get(name=UPKEEP).last_enqueued_at == now


@pytest.mark.django_db
def test_it_signs_an_hourly_checkpoint_that_verification_honours():
    from accord.audit import chain
    from accord.audit.tasks import sign_audit_checkpoint

    chain.append(SYSTEM, "test.event")
    seq = sign_audit_checkpoint.call()
    assert seq is not None
    assert sign_audit_checkpoint.call() is None  # nothing new since
    assert chain.verify().ok
