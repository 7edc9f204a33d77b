from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _restore_case_types(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After a flush (which emits post_migrate), bring the case types back; after a plain
    migrate the table has rows and nothing happens."""
    from django.db import connections

    if "cases_casetype" not in connections[using].introspection.table_names():
        return
    from accord.cases.actions import reload_case_types
    from accord.core.actors import SYSTEM

    reload_case_types(actor=SYSTEM)


class CasesConfig(AppConfig):
    name = "accord.cases"
    label = "cases"
    verbose_name = "Case management of the defender"

    def ready(self) -> None:
        post_migrate.connect(_restore_case_types, sender=self)
