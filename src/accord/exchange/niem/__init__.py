"""NIEM XML bulk feeds: an ``accord:EventFeed`` of ``accord:BookingEvent`` and
``accord:CourtEvent`` elements, read into the same rows as the CSV and JSON-lines feeds.

The document is parsed with a hardened lxml parser (no DTD loaded, no entity expanded, no
network, libxml2's size limits kept) and any document type declaration is refused, so an
XML bomb or an external entity never reaches the validator. The document is validated
against the shipped subset schemas (``accord-feed.xsd`` importing the NIEM 5.0 Core,
Justice 7.0 and structures subsets in this folder). When it is not valid, each event
element is validated on its own, so one bad event is rejected with its line and reason and
the good ones are still imported; an invalid wrapper rejects the whole document. Which
element fills which payload field: ``PATHS`` below and docs/exchange.md, "NIEM XML".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from accord.exchange.catalogue import CATALOGUE
from accord.exchange.importer import Rejected, Row

SCHEMA_DIR = Path(__file__).resolve().parent
ACCORD = "urn:accord:exchange:feed:1"
NS = {
    "accord": ACCORD,
    "nc": "http://release.niem.gov/niem/niem-core/5.0/",
    "j": "http://release.niem.gov/niem/domains/jxdm/7.0/",
    "structures": "http://release.niem.gov/niem/structures/5.0/",
}
PREFIX = {uri: prefix for prefix, uri in NS.items()}
FEED = f"{{{ACCORD}}}EventFeed"
EVENTS = {f"{{{ACCORD}}}BookingEvent": "custody", f"{{{ACCORD}}}CourtEvent": "court"}

# Header elements of every event: where the row's own fields come from.
HEADER = {
    "accord:EventTypeCode": "event_type",
    "accord:EventSchemaVersion": "schema_version",
    "accord:IdempotencyKey": "idempotency_key",
    "accord:EventOccurredDateTime": "occurred_at",
}
# The subject, in every event (payload "subject.*"; aliases is a list).
SUBJECT = {
    "nc:Person/nc:PersonOtherIdentification/nc:IdentificationID": "subject.source_id",
    "nc:Person/nc:PersonName/nc:PersonGivenName": "subject.first_name",
    "nc:Person/nc:PersonName/nc:PersonMiddleName": "subject.middle_name",
    "nc:Person/nc:PersonName/nc:PersonSurName": "subject.last_name",
    "nc:Person/nc:PersonBirthDate/nc:Date": "subject.date_of_birth",
    "nc:Person/nc:PersonAlternateName/nc:PersonFullName": "subject.aliases",
}
COMMON = {
    "nc:Case/nc:CaseDocketID": "case_reference",
    "accord:EventNoteText": "note",
}
BOOKING_NUMBER = "j:Booking/j:BookingAgencyRecordIdentification/nc:IdentificationID"
DETENTION = "j:Booking/j:BookingDetentionFacility/nc:FacilityName"
COURT_EVENT = "nc:Case/j:CaseAugmentation/j:CaseCourtEvent"
AUGMENTATION = f"{COURT_EVENT}/accord:CourtEventAugmentation"
HEARING = {
    f"{COURT_EVENT}/j:CourtEventSchedule/nc:ScheduleDate/nc:DateTime": "hearing_at",
    f"{COURT_EVENT}/nc:ActivityCategoryText": "hearing_type",
    f"{AUGMENTATION}/accord:CourtroomText": "courtroom",
}
REASON = {f"{AUGMENTATION}/accord:CourtEventChangeReasonText": "reason"}
# Per event type: the leaf elements it reads and the payload field each fills.
PATHS: dict[str, dict[str, str]] = {
    "custody.booked": {
        BOOKING_NUMBER: "booking_number",
        DETENTION: "facility",
        "j:Booking/j:Arrest/j:ArrestCharge/j:ChargeDescriptionText": "charges",
    },
    "custody.released": {
        BOOKING_NUMBER: "booking_number",
        "j:Booking/j:BookingRelease/nc:ActivityDescriptionText": "release_reason",
    },
    "custody.transferred": {
        BOOKING_NUMBER: "booking_number",
        DETENTION: "from_facility",
        "accord:TransferFacility/nc:FacilityName": "to_facility",
    },
    "court.case_filed": {
        "nc:Case/j:CaseAugmentation/j:CaseCharge/j:ChargeDescriptionText": "charges",
    },
    "court.hearing_scheduled": HEARING,
    "court.hearing_continued": {
        **HEARING,
        f"{AUGMENTATION}/accord:ContinuedFromDateTime": "continued_from",
        **REASON,
    },
    "court.hearing_cancelled": {**HEARING, **REASON},
    "court.hearing_held": {
        **HEARING,
        f"{COURT_EVENT}/nc:ActivityDisposition/nc:DispositionDescriptionText": "outcome",
    },
    "court.disposition": {
        "nc:Case/nc:ActivityDisposition/nc:DispositionDescriptionText": "disposition",
    },
}
LIST_FIELDS = {"charges", "subject.aliases"}
SUBJECT_REQUIRED = ("subject.source_id", "subject.first_name", "subject.last_name")
SPECS = {spec.code: spec for spec in CATALOGUE}
ENCODING = re.compile(r"""\A\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}

_local = threading.local()


def _parser() -> Any:
    """A parser that loads no DTD, expands no entity and never reaches the network.

    ``huge_tree`` stays off so libxml2's limits on depth and text size hold."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def schema() -> Any:
    """The shipped subset schema, loaded once per thread: a validator keeps the error log
    of its last run, so two threads sharing one would read each other's errors."""
    loaded = getattr(_local, "schema", None)
    if loaded is None:
        document = etree.parse(str(SCHEMA_DIR / "accord-feed.xsd"), _parser())
        loaded = etree.XMLSchema(document)
        _local.schema = loaded
    return loaded


def _qname(tag: str) -> str:
    uri, _, local = tag[1:].partition("}")
    return f"{PREFIX[uri]}:{local}" if uri in PREFIX else tag


def _readable(message: str) -> str:
    """libxml2 names elements as ``{uri}Local``; senders know them as ``nc:Local``."""
    for uri, prefix in PREFIX.items():
        message = message.replace(f"{{{uri}}}", f"{prefix}:")
    return message


def _errors(log: Any) -> list[tuple[int, str]]:
    return [(entry.line, _readable(entry.message).rstrip(".")) for entry in log]


def _rejected(element: Any, errors: list[tuple[int, str]]) -> Rejected:
    """One rejection for one event: at the first faulty line, naming the event's key."""
    line = min((n for n, _ in errors if n), default=element.sourceline or 0)
    key = (element.findtext("accord:IdempotencyKey", namespaces=NS) or "").strip()
    where = f"{_qname(element.tag)} {key}: " if key else f"{_qname(element.tag)}: "
    return Rejected(line, where + "; ".join(message for _, message in errors))


def _relative(leaf: Any, event: Any) -> str:
    names = []
    node = leaf
    while node is not event:
        names.append(_qname(node.tag))
        node = node.getparent()
    return "/".join(reversed(names))


def _row(event: Any) -> Row | Rejected:
    """Map one valid event element to a row, refusing elements its type does not read."""
    event_type = (event.findtext("accord:EventTypeCode", namespaces=NS) or "").strip()
    family = EVENTS[event.tag]
    if not event_type.startswith(f"{family}."):
        return _rejected(
            event,
            [(event.sourceline, f"{event_type} does not go in {_qname(event.tag)}")],
        )
    fields = {**HEADER, **SUBJECT, **COMMON, **PATHS[event_type]}
    values, errors = _values(event, event_type, fields)
    by_field = {name: path for path, name in fields.items()}
    for name in (*SUBJECT_REQUIRED, *SPECS[event_type].required):
        if not values.get(name):
            errors.append((event.sourceline, f"{by_field[name]}: required for {event_type}"))
    if errors:
        return _rejected(event, errors)
    payload: dict[str, Any] = {}
    for name, value in values.items():
        if name in HEADER.values():
            continue
        head, _, tail = name.partition(".")
        if tail:
            payload.setdefault(head, {})[tail] = value
        else:
            payload[name] = value
    version = values.get("schema_version")
    return Row(
        event.sourceline,
        event_type,
        values["idempotency_key"],
        values["occurred_at"],
        payload,
        int(version) if version else None,
    )


def _values(
    event: Any, event_type: str, fields: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """Each leaf element's text by the field it fills; an element the type does not read
    is an error at its own line (silently dropping it would lose what the sender meant)."""
    values: dict[str, Any] = {}
    errors: list[tuple[int, str]] = []
    for leaf in event.iter(etree.Element):
        if len(leaf):
            continue
        path = _relative(leaf, event)
        name = fields.get(path)
        if name is None:
            errors.append((leaf.sourceline, f"{path}: not part of a {event_type} event"))
            continue
        text = (leaf.text or "").strip()
        if not text:
            continue  # an empty element is an absent value, like an empty CSV cell
        if name in LIST_FIELDS:
            values.setdefault(name, []).append(text)
        else:
            values[name] = text
    return values, errors


def _parse(text: str) -> Any:
    """The parsed document, or the one rejection that refuses it."""
    declared = ENCODING.match(text)
    if declared and declared[1].lower() not in UTF8:
        return Rejected(1, f"encoding: feeds are UTF-8, this one declares {declared[1]}")
    try:
        tree = etree.fromstring(text.encode("utf-8"), _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        return Rejected(exc.lineno or 1, f"not well-formed XML: {exc.msg}")
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return Rejected(1, "a document type declaration (DTD) is refused: no DTDs or entities")
    root = tree.getroot()
    if root.tag != FEED:
        return Rejected(
            root.sourceline or 1, f"the document must be an accord:EventFeed ({ACCORD})"
        )
    return tree


def feed_rows(text: str) -> Iterator[Row | Rejected]:
    """Rows of an XML feed, in document order; rejections carry the faulty line."""
    tree = _parse(text.lstrip("\ufeff"))
    if isinstance(tree, Rejected):
        yield tree
        return
    validator = schema()
    whole_valid = validator.validate(tree)
    whole_errors = set() if whole_valid else set(_errors(validator.error_log))
    results: list[Row | Rejected] = []
    for child in tree.getroot().iterchildren():
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        if child.tag not in EVENTS:
            message = f"{_qname(child.tag)}: a feed holds accord:BookingEvent and accord:CourtEvent"
            results.append(Rejected(child.sourceline, message))
            unexpected = f"Element '{_qname(child.tag)}'"
            whole_errors = {
                (line, reason)
                for line, reason in whole_errors
                if line != child.sourceline or not reason.startswith(unexpected)
            }
            continue
        if not whole_valid and not validator.validate(child):
            errors = _errors(validator.error_log)
            whole_errors -= set(errors)
            results.append(_rejected(child, errors))
            continue
        results.append(_row(child))
    if whole_errors:
        # Faults of the wrapper itself: nothing in the document can be trusted.
        line = min(n for n, _ in whole_errors) or 1
        reasons = "; ".join(message for _, message in sorted(whole_errors))
        yield Rejected(line, f"accord:EventFeed: {reasons}")
        return
    yield from results
