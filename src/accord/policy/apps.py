from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _agency_changed(sender: Any, **kwargs: Any) -> None:
    # Agency status (suspension) and the set of agencies are inputs of every decision, and
    # the directory's actions belong to another app: follow its writes here.
    from accord.policy.actions import bump_policy_version

    bump_policy_version("agency changed")


class PolicyConfig(AppConfig):
    name = "accord.policy"
    label = "policy"
    verbose_name = "Policy decision point"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accord.directory.models import Agency

        post_save.connect(_agency_changed, sender=Agency, dispatch_uid="policy.agency_saved")
        post_delete.connect(_agency_changed, sender=Agency, dispatch_uid="policy.agency_deleted")
