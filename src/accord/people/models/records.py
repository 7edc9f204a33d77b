"""A person as one agency knows them: the record, its aliases, its roles in that agency's
cases, and the keys it is filed under for matching."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor
from accord.people.access import reads_people_of
from accord.people.keys import Name

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager

    from accord.people.models.linkage import PersonLink


class Sex(models.TextChoices):
    """As recorded by the source agency (NIEM ``PersonSexCode`` values)."""

    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "X", "Another sex"
    UNKNOWN = "U", "Unknown"


class IdentifierKind(models.TextChoices):
    """Partial identifiers an agency may hold. Stable codes: CSV columns and the API use
    them. Accord keeps only the last four digits of a Social Security number."""

    SSN_LAST4 = "ssn_last4", "Last 4 of SSN"
    STATE_ID = "state_id", "State identification number (SID)"
    FBI_NUMBER = "fbi_number", "FBI number"
    DRIVER_LICENSE = "driver_license", "Driver licence number"
    BOOKING_NUMBER = "booking_number", "Booking number"
    CLIENT_NUMBER = "client_number", "Agency client number"


class PartyRole(models.TextChoices):
    """A person's part in one of the agency's matters (ABA Model Rules 1.7, 1.9)."""

    CLIENT = "client", "Client"
    CO_DEFENDANT = "co_defendant", "Co-defendant"
    VICTIM = "victim", "Victim"
    COMPLAINING_WITNESS = "complaining_witness", "Complaining witness"
    WITNESS = "witness", "Witness"
    INFORMANT = "informant", "Informant"


def _terms(q: str) -> list[str]:
    return [t for t in q.split() if t][:5]


class PersonRecordQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> PersonRecordQuerySet:
        """A record is visible to staff of its source agency (and its tokens holding
        ``people:read``); other agencies see nothing until sharing under an agreement."""
        if actor.is_system:
            return self
        agency_id = reads_people_of(actor)
        if agency_id is None:
            return self.none()
        return self.filter(agency_id=agency_id)

    def search(self, q: str) -> PersonRecordQuerySet:
        """Records whose names, aliases or source id contain every word."""
        result = self
        for term in _terms(q):
            result = result.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(source_id__icontains=term)
                | Q(
                    pk__in=PersonAlias.objects.filter(
                        Q(first_name__icontains=term) | Q(last_name__icontains=term)
                    ).values("record_id")
                )
            )
        return result


class PersonRecord(ProtectedModel):
    """A person as one agency knows them, under that agency's own id for them."""

    agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="person_records"
    )
    source_id = models.CharField(max_length=64, help_text="The agency's own id for the person")
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20, blank=True, default="")
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True, default="")
    identifiers = models.JSONField(default=dict, blank=True)
    address_line = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    state = models.CharField(max_length=40, blank=True, default="")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    # What the matcher reads in one column: "YYYYMMDD|first\tmiddle\tlast|…" with the
    # record's own name first and its aliases after, normalized (kept by the actions).
    match_data = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonRecordQuerySet.as_manager()

    if TYPE_CHECKING:
        aliases: RelatedManager[PersonAlias]
        roles: RelatedManager[PersonRole]
        link: PersonLink

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "source_id"], name="person_record_source_unique"
            )
        ]
        indexes = [
            models.Index(fields=["agency", "last_name", "first_name"], name="person_record_name"),
        ]

    def __str__(self) -> str:
        # No name here: this is what the audit log records as the object's label.
        return f"person record {self.source_id}"

    @property
    def full_name(self) -> str:
        parts = [self.first_name, self.middle_name, self.last_name, self.suffix]
        return " ".join(p for p in parts if p)

    @property
    def sorted_identifiers(self) -> list[tuple[str, str]]:
        labels = dict(IdentifierKind.choices)
        return [(labels.get(k, k), str(v)) for k, v in sorted(self.identifiers.items())]

    def names(self) -> list[Name]:
        """The record's own name first, then its aliases (for keys and matching)."""
        own = [Name.of(self.first_name, self.middle_name, self.last_name)]
        return own + [Name.of(a.first_name, a.middle_name, a.last_name) for a in self.aliases.all()]


def encode_match_data(dob: date | None, names: list[Name]) -> str:
    head = dob.strftime("%Y%m%d") if dob else ""
    return "|".join([head, *(n.encode() for n in names)])


class PersonAlias(ProtectedModel):
    """Another name the same agency knows the person by (an a.k.a., a maiden name, a
    street name)."""

    record = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="aliases")
    first_name = models.CharField(max_length=100, blank=True, default="")
    middle_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "first_name", "middle_name", "last_name"],
                name="person_alias_unique",
            )
        ]

    def __str__(self) -> str:
        return f"alias of {self.record}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


class PersonRole(ProtectedModel):
    """A person's role in one matter of the agency — what a conflict check reports
    (ABA Model Rules 1.7 current clients, 1.9 former clients)."""

    record = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=32, choices=PartyRole.choices)
    case_reference = models.CharField(max_length=80)
    current = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-current", "case_reference", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "role", "case_reference"], name="person_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} in {self.case_reference}"

    @property
    def description(self) -> str:
        tense = "current" if self.current else "former"
        return f"{tense} {self.get_role_display().lower()} in {self.case_reference}"


class PersonKey(ProtectedModel):
    """One blocking key a record is filed under (see ``accord.people.keys``). The index on
    (agency, kind, value, record) answers a look-up from the index alone.

    Keys are derived data, written only by ``people.actions._file`` from their record (about
    thirty a record, millions in a county), so their references are not checked by the
    database: a foreign-key check per key row at each commit cost a bulk feed more than
    writing the rows. Deleting a record still deletes its keys (the ORM's cascade)."""

    agency = models.ForeignKey(
        "directory.Agency",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    record = models.ForeignKey(
        PersonRecord, on_delete=models.CASCADE, related_name="keys", db_constraint=False
    )
    kind = models.CharField(max_length=2)
    value = models.CharField(max_length=64)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["agency", "kind", "value", "record"], name="person_key_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
