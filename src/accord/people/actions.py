"""Every change to people, links, reviews and conflict checks.

The cases app records the people of its matters with :func:`record_person` and their part
in each matter with :func:`set_person_role`, and checks a new matter's parties with
:func:`check_conflicts`. Identity resolution links each new record to a master person
(:func:`link_records`), sends uncertain pairs to a person (:func:`decide_review`) and can
be undone (:func:`undo_merge`, :func:`split_off_record`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.core.actions import action, copy_rows, insert_many
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency
from accord.people import linkage, matching
from accord.people.access import (
    checks_conflicts_of,
    may_clear_or_confirm,
    may_flag,
    reviews_for,
    writes_people_of,
)
from accord.people.keys import Name, record_keys
from accord.people.models import (
    CheckSource,
    ConflictCandidate,
    ConflictCheck,
    ConflictHit,
    HitDecision,
    LinkageModel,
    LinkMethod,
    MasterMerge,
    MasterPerson,
    MatchReview,
    MergedRecord,
    PartyRole,
    PersonAlias,
    PersonKey,
    PersonLink,
    PersonRecord,
    PersonRole,
    ReviewStatus,
    encode_match_data,
)
from accord.people.validation import CleanPerson, clean_party, clean_person

MAX_PARTIES_PER_CHECK = 5000
# Keys written by one INSERT (four parameters each; SQLite takes 32,766 a statement).
KEYS_PER_INSERT = 500
RECORD_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "date_of_birth",
    "sex",
    "identifiers",
    "address_line",
    "city",
    "state",
    "postal_code",
)


def _require_writer(agency: Agency, actor: Actor) -> None:
    if actor.is_system:
        return
    if writes_people_of(actor) != agency.pk:
        raise PermissionDenied("Only this agency's staff (or its systems) record its people.")


def _file(
    records: Sequence[PersonRecord], names: Mapping[int, list[Name]], *, fresh: bool = False
) -> None:
    """File records under their keys and keep their match data current. ``fresh``: the
    records were just created with their match data, and have no keys to drop yet."""
    rows: list[tuple[int, int, str, str]] = []  # agency, record, kind, value
    for record in records:
        record_names = names[record.pk]
        record.match_data = encode_match_data(record.date_of_birth, record_names)
        agency_id, pk = record.agency_id, record.pk
        rows += [
            (agency_id, pk, kind, value)
            for kind, value in record_keys(record_names, record.date_of_birth)
        ]
    # In the lookup index's order (agency, kind, value, record): consecutive rows land on
    # the same pages of that index, which a county's millions of keys make large.
    rows.sort(key=lambda row: (row[0], row[2], row[3], row[1]))
    if not fresh:
        PersonKey.objects.filter(record__in=[r.pk for r in records]).delete()
        _update_fields(records, ["match_data"])
    # Keys are many (about thirty a record) and plain: written as rows, not model objects —
    # one COPY on PostgreSQL, multi-row INSERTs elsewhere (a third faster than one
    # executemany on SQLite).
    columns = ["agency_id", "record_id", "kind", "value"]
    if connection.vendor == "postgresql":
        copy_rows(PersonKey, columns, rows)
        return
    table = connection.ops.quote_name(PersonKey._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), KEYS_PER_INSERT):
            batch = rows[start : start + KEYS_PER_INSERT]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed names
                f"VALUES {', '.join(['(%s, %s, %s, %s)'] * len(batch))}",
                [value for row in batch for value in row],
            )


def _update_fields(records: Sequence[PersonRecord], names: Sequence[str]) -> None:
    """Write these fields of each record with one ``UPDATE … WHERE id = %s`` executed for
    all of them. ``bulk_update`` writes one ``CASE`` over the whole batch per field, which
    the database evaluates for every row it updates: quadratic, ~2 ms a record at a bulk
    feed's batch sizes. Only actions call this (the records are protected)."""
    if not records:
        return
    by_name = {f.name: f for f in PersonRecord._meta.concrete_fields}
    fields = [by_name[name] for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    rows = [
        (*(f.get_db_prep_save(getattr(r, f.attname), connection) for f in fields), r.pk)
        for r in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(PersonRecord._meta.db_table)} SET {assignments} "  # noqa: S608
            f"WHERE {quote(PersonRecord._meta.pk.column)} = %s",
            rows,
        )


def _names_of(record: PersonRecord, aliases: Iterable[tuple[str, str, str]]) -> list[Name]:
    return [Name.of(record.first_name, record.middle_name, record.last_name)] + [
        Name.of(*alias) for alias in aliases
    ]


# --- person records -------------------------------------------------------------------------


@action
def record_person(
    agency: Agency,
    source_id: str,
    *,
    actor: Actor,
    link: bool = True,
    **values: Any,
) -> PersonRecord:
    """Record (or update) how ``agency`` knows a person under its own ``source_id``, file it
    for matching, and link it to a master person. ``aliases`` (a list of names) replaces the
    record's aliases when given."""
    _require_writer(agency, actor)
    unknown = set(values) - set(RECORD_FIELDS) - {"aliases"}
    if unknown:
        raise InvalidInput(
            "Unknown fields.", errors=[{"field": f, "reason": "unknown field"} for f in unknown]
        )
    cleaned, errors = clean_person({**values, "source_id": source_id})
    if errors:
        raise InvalidInput("The person record is not valid.", errors=errors)
    record, created, changed = _upsert(agency, cleaned, replace_aliases="aliases" in values)
    audit(
        actor,
        AuditAction.PERSON_RECORDED,
        obj=record,
        agency_id=agency.pk,
        details={"created": created, "changed": changed, "source_id": record.source_id},
    )
    if link and (created or changed):
        link_records([record], actor=actor)
    return record


@action
def record_people(
    agency: Agency, people: Sequence[Mapping[str, Any]], *, actor: Actor
) -> list[PersonRecord | InvalidInput]:
    """Record many people as :func:`record_person` records each (``people``: its keyword
    values with ``source_id``), in order, for an agency system's batch of events: the
    records read in one query, the new and changed ones linked together (one scoring call,
    decided in order) and the audit rows appended at once. Returns per person its record
    or why it was refused (the others are recorded all the same)."""
    from accord.audit.chain import Entry, append_many

    _require_writer(agency, actor)
    known = {
        r.source_id: r
        for r in PersonRecord.objects.select_for_update()
        .filter(
            agency=agency, source_id__in=[str(p.get("source_id") or "").strip() for p in people]
        )
        .prefetch_related("aliases")
    }
    results: list[PersonRecord | InvalidInput] = []
    to_link: dict[int, PersonRecord] = {}
    to_file: dict[int, tuple[PersonRecord, list[Name]]] = {}
    entries: list[Entry] = []
    for person in people:
        unknown = set(person) - set(RECORD_FIELDS) - {"aliases", "source_id"}
        cleaned, errors = clean_person(person)
        errors = [{"field": f, "reason": "unknown field"} for f in sorted(unknown)] + errors
        if errors:
            results.append(InvalidInput("The person record is not valid.", errors=errors))
            continue
        record, created, changed = _upsert(
            agency, cleaned, replace_aliases="aliases" in person, known=known, to_file=to_file
        )
        entries.append(
            Entry(
                actor,
                AuditAction.PERSON_RECORDED,
                obj=record,
                agency_id=agency.pk,
                details={"created": created, "changed": changed, "source_id": record.source_id},
            )
        )
        if created or changed:
            to_link[record.pk] = record
        results.append(record)
    if to_file:
        _file(
            [record for record, _ in to_file.values()],
            {pk: names for pk, (_, names) in to_file.items()},
        )
    append_many(entries)
    if to_link:
        records = list(to_link.values())
        # Scored together (one Splink call for the candidates of all of them), decided in
        # order as link_records decides, and written in bulk.
        link_in_bulk(records, linkage.score_many(records, linkage.current_model()), actor=actor)
    return results


def _upsert(
    agency: Agency,
    cleaned: CleanPerson,
    *,
    replace_aliases: bool,
    known: dict[str, PersonRecord] | None = None,
    to_file: dict[int, tuple[PersonRecord, list[Name]]] | None = None,
) -> tuple[PersonRecord, bool, list[str]]:
    """Create or update the record. ``known``: records already read (and locked) by source
    id, with their aliases, kept current as records are written. ``to_file``: collect the
    records to file (the caller files them together) instead of filing each now."""
    values = cleaned.values
    if known is not None and values["source_id"] in known:
        record: PersonRecord | None = known[values["source_id"]]
    else:
        record = (
            PersonRecord.objects.select_for_update()
            .filter(agency=agency, source_id=values["source_id"])
            .first()
        )
    created = record is None
    if record is None:
        record = PersonRecord(agency=agency, source_id=values["source_id"])
    changed = [name for name in RECORD_FIELDS if getattr(record, name, None) != values[name]]
    for name in RECORD_FIELDS:
        setattr(record, name, values[name])
    if created or changed:
        record.save()
    aliases = (
        []  # a new record has none yet
        if created
        else [(a.first_name, a.middle_name, a.last_name) for a in record.aliases.all()]
    )
    if replace_aliases and set(aliases) != set(cleaned.aliases):
        record.aliases.all().delete()
        PersonAlias.objects.bulk_create(
            [
                PersonAlias(record=record, first_name=f, middle_name=m, last_name=last)
                for f, m, last in cleaned.aliases
            ]
        )
        aliases = list(cleaned.aliases)
        changed.append("aliases")
    if (created or changed) and to_file is not None:
        to_file[record.pk] = (record, _names_of(record, aliases))
    elif created or changed:
        _file([record], {record.pk: _names_of(record, aliases)})
    if known is not None:
        # The prefetched aliases went stale if they were replaced: read them afresh next time.
        if "aliases" in changed:
            known.pop(record.source_id, None)
        else:
            known[record.source_id] = record
    return record, created, changed


@action
def add_alias(
    record: PersonRecord,
    *,
    actor: Actor,
    last_name: str,
    first_name: str = "",
    middle_name: str = "",
) -> PersonAlias:
    """Add another name the agency knows the person by, and refile the record under it."""
    _require_writer(record.agency, actor)
    _cleaned, errors = clean_person(
        {
            "source_id": record.source_id,
            "first_name": first_name or "x",
            "last_name": last_name,
            "middle_name": middle_name,
        }
    )
    if errors:
        raise InvalidInput("The alias is not valid.", errors=errors)
    alias, _ = PersonAlias.objects.get_or_create(
        record=record,
        first_name=first_name.strip(),
        middle_name=middle_name.strip(),
        last_name=last_name.strip(),
    )
    aliases = [(a.first_name, a.middle_name, a.last_name) for a in record.aliases.all()]
    _file([record], {record.pk: _names_of(record, aliases)})
    audit(actor, AuditAction.PERSON_ALIAS_ADDED, obj=record, agency_id=record.agency_id)
    return alias


@action
def set_person_role(
    record: PersonRecord,
    role: str,
    case_reference: str,
    *,
    actor: Actor,
    current: bool = True,
) -> PersonRole:
    """Record a person's part in one of the agency's matters (current or former): what a
    conflict check reports about them (ABA Model Rules 1.7, 1.9)."""
    _require_writer(record.agency, actor)
    errors = []
    if role not in PartyRole.values:
        errors.append({"field": "role", "reason": f"one of {', '.join(PartyRole.values)}"})
    reference = (case_reference or "").strip()
    if not reference:
        errors.append({"field": "case_reference", "reason": "required"})
    elif len(reference) > 80:
        errors.append({"field": "case_reference", "reason": "at most 80 characters"})
    if errors:
        raise InvalidInput("The role is not valid.", errors=errors)
    row, created = PersonRole.objects.get_or_create(
        record=record, role=role, case_reference=reference, defaults={"current": current}
    )
    if not created and row.current != current:
        row.current = current
        row.save(update_fields=["current", "updated_at"])
    audit(
        actor,
        AuditAction.PERSON_ROLE_SET,
        obj=record,
        agency_id=record.agency_id,
        details={"role": role, "case_reference": reference, "current": current},
    )
    return row


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    record_ids: list[int] = field(default_factory=list)
    # Every record of the batch (created, updated or unchanged) by source id, as written.
    records: dict[str, PersonRecord] = field(default_factory=dict)


@action
def import_people_batch(
    agency: Agency,
    rows: Sequence[tuple[int, CleanPerson]],
    *,
    actor: Actor,
    source_name: str = "",
) -> ImportResult:
    """Load one batch of already-checked rows (line number, cleaned person) in bulk: all of
    the batch or none of it. Linking is left to :func:`link_records` (the importer enqueues
    it), so a large file loads at bulk speed."""
    _require_writer(agency, actor)
    result = ImportResult()
    by_source = {clean.values["source_id"]: clean for _line, clean in rows}
    existing = {
        r.source_id: r
        for r in PersonRecord.objects.select_for_update().filter(
            agency=agency, source_id__in=list(by_source)
        )
    }
    new_records = []
    for source_id, clean in by_source.items():
        if source_id in existing:
            continue
        record = PersonRecord(
            agency=agency, **{k: clean.values[k] for k in ("source_id", *RECORD_FIELDS)}
        )
        record.match_data = encode_match_data(
            record.date_of_birth, _names_of(record, clean.aliases)
        )
        new_records.append(record)
    insert_many(new_records)
    changed_records = []
    for source_id, record in existing.items():
        clean = by_source[source_id]
        if any(getattr(record, k) != clean.values[k] for k in RECORD_FIELDS):
            for k in RECORD_FIELDS:
                setattr(record, k, clean.values[k])
            changed_records.append(record)
        else:
            result.unchanged += 1
    if changed_records:
        now = timezone.now()
        for record in changed_records:
            record.updated_at = now
        _update_fields(changed_records, [*RECORD_FIELDS, "updated_at"])
        PersonAlias.objects.filter(record__in=[r.pk for r in changed_records]).delete()
        # An update changes what the record is linked on: it is linked again.
        PersonLink.objects.filter(record__in=[r.pk for r in changed_records]).delete()
    touched = new_records + changed_records
    if any(r.pk is None for r in new_records):
        raise RuntimeError("The database did not return the new records' ids.")
    PersonAlias.objects.bulk_create(
        [
            PersonAlias(record=r, first_name=f, middle_name=m, last_name=last)
            for r in touched
            for f, m, last in by_source[r.source_id].aliases
        ],
        batch_size=5000,
    )
    _file(
        new_records,
        {r.pk: _names_of(r, by_source[r.source_id].aliases) for r in new_records},
        fresh=True,
    )
    if changed_records:
        _file(
            changed_records,
            {r.pk: _names_of(r, by_source[r.source_id].aliases) for r in changed_records},
        )
    result.created, result.updated = len(new_records), len(changed_records)
    result.record_ids = [r.pk for r in touched]
    result.records = {**existing, **{r.source_id: r for r in new_records}}
    lines = [line for line, _clean in rows]
    audit(
        actor,
        AuditAction.PEOPLE_IMPORTED,
        agency_id=agency.pk,
        object_type="people.personrecord",
        details={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "first_line": min(lines) if lines else None,
            "last_line": max(lines) if lines else None,
            "file": source_name[:200],
        },
    )
    return result


# --- identity resolution ------------------------------------------------------------------------


@dataclass
class LinkSummary:
    linked: int = 0
    new_persons: int = 0
    reviews: int = 0


def _split_pairs(record_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The split pairs with a record among these. Every split pair is read and matched
    here: splits are a person's decisions, few, while a bulk feed asks about tens of
    thousands of records at a time (two such ``IN`` lists cost more than the splits)."""
    ids = set(record_ids)
    rows = MatchReview.objects.filter(status=ReviewStatus.SPLIT)
    return {
        (a, b) for a, b in rows.values_list("record_a_id", "record_b_id") if a in ids or b in ids
    }


def _open_review(record: PersonRecord, other_id: int, score: linkage.Scored, actor: Actor) -> bool:
    a, b = sorted((record.pk, other_id))
    review, created = MatchReview.objects.get_or_create(
        record_a_id=a,
        record_b_id=b,
        defaults={
            "match_weight": score.match_weight,
            "match_probability": score.match_probability,
            "agreed_fields": score.agreed,
            "comparison": score.levels,
        },
    )
    if created:
        audit(
            actor,
            AuditAction.MATCH_REVIEW_OPENED,
            obj=review,
            agency_id=record.agency_id,
            details={"record_a": a, "record_b": b, "probability": score.match_probability},
        )
    return created


@action
def link_records(records: Sequence[PersonRecord], *, actor: Actor) -> LinkSummary:
    """Link records to master persons with the trained model: a sure match joins its
    person, an uncertain one also opens a review, and no match makes a new person. A pair a
    person has split is never linked again. The records are scored together (one Splink
    call) and decided in order, so a record joins the person of one linked before it."""
    summary = LinkSummary()
    scores = linkage.score_many(records, linkage.current_model())
    for record in records:
        scored = scores[record.pk]
        splits = _split_pairs([record.pk])
        masters = dict(
            PersonLink.objects.filter(record_id__in=[s.other_id for s in scored]).values_list(
                "record_id", "master_id"
            )
        )
        blocked_masters = {
            masters[other]
            for pair in splits
            for other in pair
            if other != record.pk and other in masters
        }
        best: linkage.Scored | None = None
        for score in scored:
            master_id = masters.get(score.other_id)
            if master_id is None or master_id in blocked_masters:
                continue
            if tuple(sorted((record.pk, score.other_id))) in splits:
                continue
            if score.match_probability >= linkage.LINK_THRESHOLD and best is None:
                best = score
            elif score.match_probability >= linkage.REVIEW_THRESHOLD and (
                best is None or master_id != masters.get(best.other_id)
            ):
                summary.reviews += _open_review(record, score.other_id, score, actor)
        PersonLink.objects.filter(record=record).delete()
        if best is not None:
            link = PersonLink.objects.create(
                record=record,
                master_id=masters[best.other_id],
                method=LinkMethod.MODEL,
                match_weight=best.match_weight,
                match_probability=best.match_probability,
                agreed_fields=best.agreed,
                linked_to_id=best.other_id,
                linked_by=actor.label,
            )
            summary.linked += 1
        else:
            link = PersonLink.objects.create(
                record=record,
                master=MasterPerson.objects.create(),
                method=LinkMethod.SINGLE,
                linked_by=actor.label,
            )
            summary.new_persons += 1
        audit(
            actor,
            AuditAction.PERSON_LINKED,
            obj=record,
            agency_id=record.agency_id,
            details={
                "master": link.master_id,
                "method": link.method,
                "probability": link.match_probability,
                "agreed": link.agreed_fields,
            },
        )
    return summary


@action
def link_pending(*, actor: Actor, agency: Agency | None = None, limit: int = 5000) -> LinkSummary:
    """Link the records that have no master person yet (after a bulk import).

    One transaction per record, not one for the lot: on SQLite a transaction holds the
    database's only write lock, and sign-ins must not wait minutes behind a bulk link."""
    pending = PersonRecord.objects.filter(link__isnull=True).order_by("pk")
    if agency is not None:
        pending = pending.filter(agency=agency)
    total = LinkSummary()
    for record in pending[:limit]:
        one = link_records([record], actor=actor)
        total.linked += one.linked
        total.new_persons += one.new_persons
        total.reviews += one.reviews
    return total


@action
def seed_links(groups: Sequence[Sequence[PersonRecord]], *, actor: Actor) -> int:
    """Link records already known to be one person (the demo county, or records migrated
    from a system that resolved them): each group becomes one person, linked as ``seed``.
    Only the system does this; records already linked are left as they are."""
    if not actor.is_system:
        raise PermissionDenied("Only the system seeds links.")
    linked = set(
        PersonLink.objects.filter(
            record_id__in=[r.pk for group in groups for r in group]
        ).values_list("record_id", flat=True)
    )
    count = 0
    for group in groups:
        fresh = [r for r in group if r.pk not in linked]
        if not fresh:
            continue
        master = MasterPerson.objects.create()
        PersonLink.objects.bulk_create(
            [
                PersonLink(record=r, master=master, method=LinkMethod.SEED, linked_by=actor.label)
                for r in fresh
            ]
        )
        count += len(fresh)
    audit(actor, AuditAction.PERSON_LINKED, details={"seeded": count, "groups": len(groups)})
    return count


@action
def train_linkage_model(*, actor: Actor) -> LinkageModel:
    """Learn the matching model from the records themselves (no labels): u from random
    pairs, m by expectation maximisation. The coordinators' and the system's to run."""
    if not (actor.is_system or (actor.scopes is None and actor.has_role("coordinator"))):
        raise PermissionDenied("Only a coordinator trains the matching model.")
    settings, count = linkage.train_from_records()
    model = LinkageModel.objects.create(
        trained_by=actor.label, record_count=count, settings=settings
    )
    audit(actor, AuditAction.LINKAGE_TRAINED, obj=model, details={"records": count})
    return model


def _require_reviewer(records: Iterable[PersonRecord], actor: Actor) -> None:
    if actor.is_system:
        return
    agency_id = reviews_for(actor)
    if agency_id is None or any(r.agency_id != agency_id for r in records):
        raise NotFound("No such match review.")


def _merge(
    kept: MasterPerson, absorbed: MasterPerson, *, actor: Actor, reason: str, via: PersonRecord
) -> MasterMerge:
    merge = MasterMerge.objects.create(
        kept=kept, absorbed=absorbed, merged_by=actor.label, reason=reason[:500]
    )
    links = list(PersonLink.objects.select_for_update().filter(master=absorbed))
    MergedRecord.objects.bulk_create(
        [
            MergedRecord(
                merge=merge,
                record_id=link.record_id,
                previous_method=link.method,
                previous_weight=link.match_weight,
                previous_probability=link.match_probability,
            )
            for link in links
        ]
    )
    for link in links:
        link.master = kept
        link.method = LinkMethod.REVIEWER
        link.linked_by = actor.label
        link.linked_to = via
    PersonLink.objects.bulk_update(links, ["master", "method", "linked_by", "linked_to"])
    return merge


@action
def decide_review(
    review: MatchReview, decision: str, *, actor: Actor, note: str = ""
) -> MatchReview:
    """A person decides an uncertain pair: ``confirmed`` merges the two persons (undoable),
    ``split`` keeps them apart for good."""
    # Lock the review row only: PostgreSQL cannot lock the nullable side of the outer
    # joins that bring the records' links along.
    review = (
        MatchReview.objects.select_for_update(of=("self",))
        .select_related("record_a__link", "record_b__link")
        .get(pk=review.pk)
    )
    _require_reviewer([review.record_a, review.record_b], actor)
    if decision not in (ReviewStatus.CONFIRMED, ReviewStatus.SPLIT):
        raise InvalidInput(
            "Choose confirmed or split.",
            errors=[{"field": "decision", "reason": "one of confirmed, split"}],
        )
    if review.status != ReviewStatus.PENDING:
        raise ActionRefused("This pair was already decided.")
    if len(note) > 500:
        raise InvalidInput("Note too long.", errors=[{"field": "note", "reason": "at most 500"}])
    review.status = decision
    review.decided_at = timezone.now()
    review.decided_by = actor.label
    review.note = note.strip()
    details: dict[str, Any] = {"record_a": review.record_a_id, "record_b": review.record_b_id}
    if decision == ReviewStatus.CONFIRMED:
        kept, absorbed = review.record_a.link.master, review.record_b.link.master
        if kept.pk != absorbed.pk:
            review.merge = _merge(
                kept, absorbed, actor=actor, reason=note or "review confirmed", via=review.record_a
            )
            details["merge"] = review.merge.pk
        code = AuditAction.MATCH_CONFIRMED
    else:
        if review.record_a.link.master_id == review.record_b.link.master_id:
            _split_off(review.record_b, actor=actor)
        code = AuditAction.MATCH_SPLIT
    review.save()
    audit(actor, code, obj=review, agency_id=review.record_a.agency_id, details=details)
    return review


@action
def undo_merge(merge: MasterMerge, *, actor: Actor, reason: str) -> MasterMerge:
    """Put back the records a wrong merge moved, with the links they had, and remember that
    the two persons are different."""
    merge = MasterMerge.objects.select_for_update().get(pk=merge.pk)
    moved = list(merge.moved.select_related("record"))
    _require_reviewer([m.record for m in moved], actor)
    if merge.is_undone:
        raise ActionRefused("This merge was already undone.")
    if not reason.strip():
        raise InvalidInput("Say why.", errors=[{"field": "reason", "reason": "required"}])
    links = {
        link.record_id: link
        for link in PersonLink.objects.select_for_update().filter(
            record_id__in=[m.record_id for m in moved], master=merge.kept
        )
    }
    for row in moved:
        link = links.get(row.record_id)
        if link is None:
            continue  # linked elsewhere since; not this merge's to move
        link.master = merge.absorbed
        link.method = row.previous_method
        link.match_weight = row.previous_weight
        link.match_probability = row.previous_probability
        link.linked_by = actor.label
    PersonLink.objects.bulk_update(
        list(links.values()),
        ["master", "method", "match_weight", "match_probability", "linked_by"],
    )
    merge.undone_at = timezone.now()
    merge.undone_by = actor.label
    merge.reason = f"{merge.reason} | undone: {reason.strip()}"[:500]
    merge.save()
    MatchReview.objects.filter(merge=merge).update(
        status=ReviewStatus.SPLIT, note=f"merge undone: {reason.strip()}"[:500]
    )
    audit(
        actor,
        AuditAction.MERGE_UNDONE,
        obj=merge,
        agency_id=actor.agency_id,
        details={"records": sorted(links), "reason": reason.strip()[:200]},
    )
    return merge


def _split_off(record: PersonRecord, *, actor: Actor) -> PersonLink:
    link: PersonLink = PersonLink.objects.select_for_update().get(record=record)
    others = list(
        PersonLink.objects.filter(master_id=link.master_id)
        .exclude(record=record)
        .values_list("record_id", flat=True)
    )
    for other in others:
        a, b = sorted((record.pk, other))
        MatchReview.objects.update_or_create(
            record_a_id=a,
            record_b_id=b,
            defaults={
                "status": ReviewStatus.SPLIT,
                "decided_at": timezone.now(),
                "decided_by": actor.label,
                "match_weight": link.match_weight or 0.0,
                "match_probability": link.match_probability or 0.0,
            },
        )
    link.master = MasterPerson.objects.create()
    link.method = LinkMethod.REVIEWER
    link.linked_to = None
    link.linked_by = actor.label
    link.save()
    return link


@action
def split_off_record(record: PersonRecord, *, actor: Actor, reason: str) -> PersonLink:
    """Take a wrongly linked record off its person: it becomes a person of its own, and
    linkage never puts it back with the records it was with."""
    _require_reviewer([record], actor)
    if not reason.strip():
        raise InvalidInput("Say why.", errors=[{"field": "reason", "reason": "required"}])
    link = _split_off(record, actor=actor)
    audit(
        actor,
        AuditAction.RECORD_SPLIT_OFF,
        obj=record,
        agency_id=record.agency_id,
        details={"master": link.master_id, "reason": reason.strip()[:200]},
    )
    return link


# --- conflict checks ---------------------------------------------------------------------------


def _roles_summary(record_ids: Iterable[int]) -> dict[int, str]:
    found: dict[int, list[str]] = {}
    rows = PersonRole.objects.filter(record_id__in=list(record_ids)).order_by(
        "-current", "case_reference"
    )
    for role in rows:
        found.setdefault(role.record_id, []).append(role.description)
    return {k: "; ".join(v)[:500] for k, v in found.items()}


@action
def check_conflicts(
    agency: Agency,
    candidates: Sequence[Mapping[str, Any]],
    *,
    actor: Actor,
    reference: str = "",
    source: str = CheckSource.API,
    rows: Sequence[int] | None = None,
) -> ConflictCheck:
    """Check the parties of a matter against every person the agency knows — current and
    former clients and every party of its matters, aliases included (ABA Model Rules 1.7,
    1.9, 1.10). Each possible match is a hit, ranked and explained, waiting for a decision."""
    if not actor.is_system and checks_conflicts_of(actor) != agency.pk:
        raise PermissionDenied("Only this agency's staff check conflicts against its people.")
    if not candidates:
        raise InvalidInput(
            "No parties to check.", errors=[{"field": "candidates", "reason": "empty"}]
        )
    if len(candidates) > MAX_PARTIES_PER_CHECK:
        raise InvalidInput(
            "Too many parties.",
            errors=[{"field": "candidates", "reason": f"at most {MAX_PARTIES_PER_CHECK}"}],
        )
    if source not in CheckSource.values:
        raise InvalidInput("Unknown source.", errors=[{"field": "source", "reason": "unknown"}])
    if len(reference) > 120:
        raise InvalidInput(
            "Reference too long.",
            errors=[{"field": "reference", "reason": "at most 120 characters"}],
        )
    cleaned, errors = [], []
    for i, values in enumerate(candidates):
        party, party_errors = clean_party(values)
        cleaned.append(party)
        errors += [
            {"field": f"candidates.{i}.{e['field']}", "reason": e["reason"]} for e in party_errors
        ]
    if errors:
        raise InvalidInput("Some parties are not valid.", errors=errors)
    check = ConflictCheck.objects.create(
        agency=agency,
        reference=reference.strip(),
        source=source,
        requested_by=actor.label,
        requested_by_user_id=actor.user_id,
    )
    positions = list(rows) if rows is not None else list(range(1, len(cleaned) + 1))
    parties = ConflictCandidate.objects.bulk_create(
        [
            ConflictCandidate(check_run=check, row=positions[i], **party)
            for i, party in enumerate(cleaned)
        ]
    )
    found: list[tuple[ConflictCandidate, matching.Match]] = []
    for party in parties:
        matches = matching.find_matches(
            agency.pk,
            matching.Party(
                first_name=party.first_name,
                middle_name=party.middle_name,
                last_name=party.last_name,
                date_of_birth=party.date_of_birth,
            ),
        )
        found += [(party, m) for m in matches]
    roles = _roles_summary({m.record_id for _p, m in found})
    ConflictHit.objects.bulk_create(
        [
            ConflictHit(
                check_run=check,
                candidate=party,
                record_id=m.record_id,
                score=m.score,
                explanation=m.explanation[:300],
                matched_name=m.matched_name[:300],
                roles_summary=roles.get(m.record_id, "no role recorded"),
            )
            for party, m in found
        ],
        batch_size=2000,
    )
    check.candidate_count = len(parties)
    check.hit_count = check.open_count = len(found)
    check.save()
    audit(
        actor,
        AuditAction.CONFLICT_CHECK_RUN,
        obj=check,
        agency_id=agency.pk,
        details={
            "parties": len(parties),
            "hits": len(found),
            "reference": check.reference,
            "source": source,
        },
    )
    return check


def _recount(check: ConflictCheck) -> None:
    counts = check.hits.aggregate(
        open=Count("pk", filter=Q(decision__in=[HitDecision.OPEN, HitDecision.FLAGGED])),
        confirmed=Count("pk", filter=Q(decision=HitDecision.CONFIRMED)),
    )
    check.open_count = counts["open"]
    check.confirmed_count = counts["confirmed"]
    check.save(update_fields=["open_count", "confirmed_count"])


@action
def decide_hit(hit: ConflictHit, decision: str, *, actor: Actor, note: str = "") -> ConflictHit:
    """Clear a hit, flag it for a supervisor, or confirm it as a conflict (the matter goes
    to conflict counsel). Lawyers clear and confirm; a flagged or decided hit is the
    supervisor's; clearing always says why."""
    hit = ConflictHit.objects.select_for_update().select_related("check_run").get(pk=hit.pk)
    if not actor.is_system and checks_conflicts_of(actor) != hit.check_run.agency_id:
        raise NotFound("No such conflict hit.")
    note = note.strip()
    if decision not in (HitDecision.CLEARED, HitDecision.FLAGGED, HitDecision.CONFIRMED):
        raise InvalidInput(
            "Choose cleared, flagged or confirmed.",
            errors=[{"field": "decision", "reason": "one of cleared, flagged, confirmed"}],
        )
    if len(note) > 1000:
        raise InvalidInput(
            "Note too long.", errors=[{"field": "note", "reason": "at most 1000 characters"}]
        )
    if decision == hit.decision:
        raise ActionRefused("The hit already has this decision.")
    previous = hit.decision
    if decision == HitDecision.FLAGGED:
        if not may_flag(actor):
            raise PermissionDenied("Only a person can flag a hit.")
        if previous != HitDecision.OPEN and not may_clear_or_confirm(actor, flagged=True):
            raise PermissionDenied("Only a supervisor can reopen a decided hit.")
    elif not may_clear_or_confirm(actor, flagged=previous != HitDecision.OPEN):
        raise PermissionDenied(
            "A supervisor decides this hit."
            if previous != HitDecision.OPEN
            else "Only an attorney or a supervisor can clear or confirm a hit."
        )
    if decision == HitDecision.CLEARED and not note:
        raise InvalidInput(
            "Say why the hit is cleared.", errors=[{"field": "note", "reason": "required to clear"}]
        )
    hit.decision = decision
    hit.decided_by = actor.label
    hit.decided_at = timezone.now()
    hit.decision_note = note
    hit.save()
    _recount(hit.check_run)
    audit(
        actor,
        AuditAction.CONFLICT_HIT_DECIDED,
        obj=hit,
        agency_id=hit.check_run.agency_id,
        details={
            "check": hit.check_run_id,
            "decision": decision,
            "previous": previous,
            "score": hit.score,
        },
    )
    return hit


@dataclass
class _BulkLinks:
    """What :func:`link_in_bulk` decided before writing: each record's existing master, or
    the earlier record of the batch whose new person it joins, or a new person."""

    joined: dict[int, int] = field(default_factory=dict)  # record -> master
    follows: dict[int, int] = field(default_factory=dict)  # record -> founding record
    founders: list[int] = field(default_factory=list)  # in order; each a new person
    founding: set[int] = field(default_factory=set)
    best: dict[int, linkage.Scored] = field(default_factory=dict)
    reviews: dict[tuple[int, int], linkage.Scored] = field(default_factory=dict)

    def person_of(self, record_id: int, masters: Mapping[int, int]) -> tuple[str, int] | None:
        if record_id in self.joined:
            return ("m", self.joined[record_id])
        if record_id in self.follows:
            return ("r", self.follows[record_id])
        if record_id in self.founding:
            return ("r", record_id)
        if record_id in masters:
            return ("m", masters[record_id])
        return None


def _decide_bulk(
    records: Sequence[PersonRecord],
    scores: Mapping[int, Sequence[linkage.Scored]],
    masters: Mapping[int, int],
) -> _BulkLinks:
    """Decide each record in order as :func:`link_records` does (records earlier in the
    batch count as linked)."""
    plan = _BulkLinks()
    for record in records:
        best: linkage.Scored | None = None
        best_person: tuple[str, int] | None = None
        for score in scores.get(record.pk, ()):
            person = plan.person_of(score.other_id, masters)
            if person is None:
                continue
            if score.match_probability >= linkage.LINK_THRESHOLD and best is None:
                best, best_person = score, person
            elif score.match_probability >= linkage.REVIEW_THRESHOLD and person != best_person:
                pair = (min(record.pk, score.other_id), max(record.pk, score.other_id))
                plan.reviews.setdefault(pair, score)
        if best is None or best_person is None:
            plan.founders.append(record.pk)
            plan.founding.add(record.pk)
            continue
        plan.best[record.pk] = best
        kind, value = best_person
        (plan.joined if kind == "m" else plan.follows)[record.pk] = value
    return plan


@action
def link_in_bulk(
    records: Sequence[PersonRecord],
    scores: Mapping[int, Sequence[linkage.Scored]],
    *,
    actor: Actor,
) -> dict[int, int]:
    """Link many records at once from scores computed for all of them together (a bulk
    feed, :class:`accord.people.bulk_linkage.LinkageIndex`), deciding each as
    :func:`link_records` does and in the order given: a sure match joins its person (a
    record earlier in the batch counts), uncertain pairs open reviews, no match makes a new
    person. Records in a pair a person has split are linked one by one by
    :func:`link_records`, which knows the splits. Returns record id → master person id."""
    from accord.audit.chain import Entry, append_many

    split_ids = {pk for pair in _split_pairs([r.pk for r in records]) for pk in pair}
    careful = [r for r in records if r.pk in split_ids]
    plain = [r for r in records if r.pk not in split_ids]
    PersonLink.objects.filter(record_id__in=[r.pk for r in plain]).delete()
    others = {s.other_id for r in plain for s in scores.get(r.pk, ())}
    masters = dict(
        PersonLink.objects.filter(record_id__in=list(others)).values_list("record_id", "master_id")
    )
    plan = _decide_bulk(plain, scores, masters)
    created = [MasterPerson() for _ in plan.founders]
    insert_many(created)
    new_master = {pk: m.pk for pk, m in zip(plan.founders, created, strict=True)}
    result = {**plan.joined, **new_master}
    result.update({pk: new_master[founder] for pk, founder in plan.follows.items()})
    # Built from every field's value in the model's order (Django's positional path costs
    # a fifth of its keyword path; a field added to PersonLink but not here fails).
    order = [f.attname for f in PersonLink._meta.concrete_fields]
    links = []
    for record in plain:
        best = plan.best.get(record.pk)
        values = {
            "id": None,
            "record_id": record.pk,
            "master_id": result[record.pk],
            "method": LinkMethod.SINGLE if best is None else LinkMethod.MODEL,
            "match_weight": None if best is None else best.match_weight,
            "match_probability": None if best is None else best.match_probability,
            "agreed_fields": [] if best is None else best.agreed,
            "linked_to_id": None if best is None else best.other_id,
            "linked_at": None,  # set on insert
            "linked_by": actor.label,
        }
        links.append(PersonLink(*[values[name] for name in order]))  # type: ignore[misc]
    insert_many(links)
    existing = set(
        MatchReview.objects.filter(
            record_a_id__in=[a for a, _b in plan.reviews],
            record_b_id__in=[b for _a, b in plan.reviews],
        ).values_list("record_a_id", "record_b_id")
    )
    opened = MatchReview.objects.bulk_create(
        [
            MatchReview(
                record_a_id=a,
                record_b_id=b,
                match_weight=s.match_weight,
                match_probability=s.match_probability,
                agreed_fields=s.agreed,
                comparison=s.levels,
            )
            for (a, b), s in plan.reviews.items()
            if (a, b) not in existing
        ],
        batch_size=2000,
    )
    agency_of = {r.pk: r.agency_id for r in records}
    entries = [
        Entry(
            actor,
            AuditAction.MATCH_REVIEW_OPENED,
            obj=review,
            agency_id=agency_of.get(review.record_a_id, agency_of.get(review.record_b_id)),
            details={
                "record_a": review.record_a_id,
                "record_b": review.record_b_id,
                "probability": review.match_probability,
            },
        )
        for review in opened
    ]
    entries += [
        Entry(
            actor,
            AuditAction.PERSON_LINKED,
            obj=record,
            agency_id=record.agency_id,
            details={
                "master": link.master_id,
                "method": link.method,
                "probability": link.match_probability,
                "agreed": link.agreed_fields,
            },
        )
        for record, link in zip(plain, links, strict=True)
    ]
    append_many(entries)
    for record in careful:
        link_records([record], actor=actor)
    if careful:
        result.update(
            PersonLink.objects.filter(record__in=careful).values_list("record_id", "master_id")
        )
    return result
