"""Reference data of case management: the workload case types a case is counted under."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import models

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor

# The public workload standards (docs/cases.md): loaded from this file by a data migration,
# never retyped. A copy of /work/shared/reference/workload_standards.csv.
STANDARDS_CSV = Path(__file__).resolve().parents[1] / "reference" / "workload_standards.csv"
# Words spelled differently in a label than in a code.
_LABEL_WORDS = {"lwop": "LWOP (life without parole)", "dui": "DUI", "mid": "middle"}


def read_standards(path: Path = STANDARDS_CSV) -> list[dict[str, str]]:
    """The rows of the workload standards file (standard, case_type, hours_per_case, source)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def label_of(code: str) -> str:
    words = [_LABEL_WORDS.get(w, w) for w in code.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


class CaseTypeQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> CaseTypeQuerySet:
        """Public reference data: every signed-in member of the partnership reads it."""
        if actor.is_system or actor.agency_id is not None:
            return self
        return self.none()


class CaseType(ProtectedModel):
    """A workload case type of one standard (NPDWS 2023, NAC 1973, or an office's own), with
    the attorney hours one case of it takes: what a case is counted as for caseloads."""

    standard = models.CharField(max_length=40)
    code = models.CharField(max_length=60)
    hours_per_case = models.DecimalField(max_digits=7, decimal_places=2)
    source = models.CharField(max_length=300, blank=True, default="")

    objects = CaseTypeQuerySet.as_manager()

    class Meta:
        ordering = ["standard", "-hours_per_case", "code"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="case_type_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.standard})"

    @property
    def label(self) -> str:
        return label_of(self.code)
