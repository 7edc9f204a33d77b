"""NIEM XML feeds: the shipped subset schemas, a valid feed through the command and the
upload page, a bad event reported by line while the others are taken, refused documents
(not well-formed, DTDs, XML bombs, external entities), and safe re-runs."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from lxml import etree

from accord.core.testing import as_
from accord.exchange.catalogue import CATALOGUE
from accord.exchange.importer import Rejected, Row
from accord.exchange.models import Event
from accord.exchange.niem import NS, PATHS, SCHEMA_DIR, feed_rows, schema

FEED = (Path(__file__).parent / "fixtures" / "niem-feed.xml").read_text(encoding="utf-8")
KEYS = {"jail-b-1", "jail-t-1", "court-h-1", "court-h-2", "court-d-1"}


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th occurrence of needle, so tests name lines by content."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def _import(path: Path, user: str = "jail_officer") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import", "events", str(path), "--as", user, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_loads_each_shipped_schema_and_the_feed_schema_validates_the_sample():
    names = sorted(p.name for p in SCHEMA_DIR.glob("*.xsd"))
    assert names == ["accord-feed.xsd", "jxdm.xsd", "niem-core.xsd", "structures.xsd"]
    for name in names:
        etree.XMLSchema(etree.parse(str(SCHEMA_DIR / name)))
    assert schema().validate(etree.fromstring(FEED.encode()))


def test_it_maps_only_fields_the_catalogue_schemas_know():
    specs = {spec.code: spec for spec in CATALOGUE}
    document = etree.parse(str(SCHEMA_DIR / "accord-feed.xsd"))
    codes = document.xpath(
        "//xs:simpleType[@name='EventTypeCodeSimpleType']//xs:enumeration/@value",
        namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    assert sorted(codes) == sorted(PATHS)
    for code, paths in PATHS.items():
        properties = specs[code].schema()["properties"]
        assert set(paths.values()) <= set(properties), code


def test_it_imports_a_valid_feed_through_the_command_and_a_rerun_creates_nothing(
    county, tmp_path: Path
):
    path = tmp_path / "feed.xml"
    path.write_text(FEED, encoding="utf-8")
    out, err = _import(path)
    assert "5 created, 0 already taken, 0 rejected" in out, err
    assert set(Event.objects.values_list("idempotency_key", flat=True)) == KEYS
    booked = Event.objects.get(idempotency_key="jail-b-1")
    assert booked.payload["charges"] == ["Theft", "Trespass"]
    assert booked.payload["subject"] == {
        "source_id": "J-1",
        "first_name": "Jordan",
        "middle_name": "Lee",
        "last_name": "Avery",
        "date_of_birth": "1990-04-12",
        "aliases": ["Jay Avery"],
    }
    continued = Event.objects.get(idempotency_key="court-h-2")
    assert continued.case_reference == "2026-CF-1"
    assert continued.payload["continued_from"] == "2026-12-01T09:00:00-06:00"
    assert Event.objects.get(idempotency_key="jail-t-1").payload["to_facility"] == "North annex"

    again, _ = _import(path)
    assert "0 created, 5 already taken, 0 rejected" in again
    assert Event.objects.count() == 5


def test_it_reports_a_bad_event_by_its_line_and_takes_the_others(county, tmp_path: Path):
    bad = FEED.replace(
        "<accord:TransferFacility>",
        "<accord:Unknown>x</accord:Unknown>\n    <accord:TransferFacility>",
    ).replace(  # schema-valid, but a custody.booked event needs its facility
        "<j:BookingDetentionFacility><nc:FacilityName>Main jail</nc:FacilityName>"
        "</j:BookingDetentionFacility>\n      <j:Arrest>",
        "<j:Arrest>",
    )
    path = tmp_path / "feed.xml"
    path.write_text(bad, encoding="utf-8")
    out, err = _import(path)
    assert "3 created, 0 already taken, 2 rejected" in out
    unknown = _line_of(bad, "<accord:Unknown>")
    assert (
        f"line {unknown}: accord:BookingEvent jail-t-1: Element 'accord:Unknown': "
        "This element is not expected" in err
    )
    booking = _line_of(bad, "<accord:BookingEvent>")
    assert (
        f"line {booking}: accord:BookingEvent jail-b-1: "
        "j:Booking/j:BookingDetentionFacility/nc:FacilityName: required for custody.booked" in err
    )
    assert not Event.objects.filter(idempotency_key__in=["jail-b-1", "jail-t-1"]).exists()


def test_it_refuses_an_element_its_event_type_does_not_read():
    text = FEED.replace(
        "</j:BookingDetentionFacility>\n      <j:Arrest>",
        "</j:BookingDetentionFacility>\n      <j:BookingRelease>"
        "<nc:ActivityDescriptionText>Bond</nc:ActivityDescriptionText></j:BookingRelease>\n"
        "      <j:Arrest>",
        1,
    )
    first = next(iter(feed_rows(text)))
    assert isinstance(first, Rejected)
    assert first.line == _line_of(text, "<j:BookingRelease>")
    assert (
        "j:Booking/j:BookingRelease/nc:ActivityDescriptionText: not part of a custody.booked"
        in (first.reason)
    )


def test_it_refuses_an_event_type_in_the_wrong_element():
    text = FEED.replace(
        "<accord:EventTypeCode>court.disposition", "<accord:EventTypeCode>custody.released"
    )
    rows = list(feed_rows(text))
    assert rows[-1] == Rejected(
        _line_of(text, "<accord:CourtEvent>", 3),
        "accord:CourtEvent court-d-1: custody.released does not go in accord:CourtEvent",
    )
    assert sum(isinstance(r, Row) for r in rows) == 4


def test_an_invalid_wrapper_rejects_the_whole_document():
    text = FEED.replace("<accord:EventFeed", '<accord:EventFeed sent="today"', 1)
    rows = list(feed_rows(text))
    assert len(rows) == 1
    assert isinstance(rows[0], Rejected)
    assert "attribute 'sent': The attribute 'sent' is not allowed" in rows[0].reason


def test_it_refuses_a_document_that_is_not_well_formed(county, tmp_path: Path):
    path = tmp_path / "broken.xml"
    path.write_text(FEED.replace("</nc:PersonGivenName>", "</nc:PersonGiven>", 1))
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "import", "events", str(path), "--as", "jail_officer", stdout=StringIO(), stderr=err
        )
    line = _line_of(FEED, "</nc:PersonGivenName>")
    assert f"line {line}: not well-formed XML: Opening and ending tag mismatch" in err.getvalue()
    assert not Event.objects.exists()


def test_it_refuses_an_xml_bomb_without_expanding_it():
    laughs = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE accord:EventFeed [<!ENTITY lol0 "lol">{laughs}]>\n'
        '<accord:EventFeed xmlns:accord="urn:accord:exchange:feed:1">&lol9;</accord:EventFeed>'
    )
    rows = list(feed_rows(bomb))
    assert len(rows) == 1
    assert isinstance(rows[0], Rejected)
    assert "lol" not in rows[0].reason


def test_it_refuses_external_entities_and_dtds_and_reads_no_file(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    xxe = FEED.replace(
        "<accord:EventFeed",
        f'<!DOCTYPE accord:EventFeed [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<accord:EventFeed',
        1,
    ).replace("<nc:PersonGivenName>Jordan", "<nc:PersonGivenName>&x;", 1)
    external_dtd = FEED.replace(
        "<accord:EventFeed",
        '<!DOCTYPE accord:EventFeed SYSTEM "http://127.0.0.1:9/feed.dtd">\n<accord:EventFeed',
        1,
    )
    for text in (xxe, external_dtd):
        rows = list(feed_rows(text))
        assert rows == [
            Rejected(1, "a document type declaration (DTD) is refused: no DTDs or entities")
        ]
        assert "the secret" not in repr(rows)


def test_it_refuses_a_feed_declared_in_another_encoding():
    text = FEED.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)
    assert list(feed_rows(text)) == [
        Rejected(1, "encoding: feeds are UTF-8, this one declares ISO-8859-1")
    ]


def test_the_upload_page_takes_an_xml_feed_and_a_second_upload_creates_nothing(county):
    officer = as_(county.jail_officer)

    def upload() -> str:
        page = officer.post(
            "/exchange/upload",
            {"file": SimpleUploadedFile("feed.xml", FEED.encode(), "application/xml")},
        )
        assert page.status_code == 200
        return page.content.decode()

    assert "5 created, 0 already taken, 0 rejected" in upload()
    assert "0 created, 5 already taken, 0 rejected" in upload()
    assert Event.objects.count() == 5


def test_the_upload_page_reports_a_bad_event_by_line(county):
    bad = FEED.replace("<nc:PersonSurName>Avery</nc:PersonSurName>", "", 1)
    page = as_(county.jail_officer).post(
        "/exchange/upload",
        {"file": SimpleUploadedFile("feed.txt", bad.encode(), "text/xml"), "format": "xml"},
    )
    body = page.content.decode()
    assert "4 created, 0 already taken, 1 rejected" in body
    assert f'<th scope="row">{_line_of(bad, "<accord:BookingEvent>")}</th>' in body
    assert "nc:Person/nc:PersonName/nc:PersonSurName: required for custody.booked" in body


def test_the_upload_page_checks_the_content_type_of_an_xml_feed(county):
    officer = as_(county.jail_officer)
    page = officer.post(
        "/exchange/upload", {"file": SimpleUploadedFile("feed.xml", FEED.encode(), "text/csv")}
    )
    assert page.status_code == 422
    assert "sent as text/csv, not as XML" in page.content.decode()
    page = officer.post(
        "/exchange/upload",
        {"file": SimpleUploadedFile("feed.csv", FEED.encode(), "application/xml")},
    )
    assert page.status_code == 422
    assert "choose the NIEM XML format" in page.content.decode()
    assert not Event.objects.exists()


def test_namespaces_of_the_module_are_those_of_the_schemas():
    targets = {
        etree.parse(str(path)).getroot().get("targetNamespace") for path in SCHEMA_DIR.glob("*.xsd")
    }
    assert targets == set(NS.values())


def test_the_sample_in_the_documentation_is_a_valid_feed():
    docs = Path(__file__).resolve().parents[4] / "docs" / "exchange.md"
    sample = docs.read_text(encoding="utf-8").split("```xml\n", 1)[1].split("```", 1)[0]
    rows = list(feed_rows(sample))
    assert [r.event_type for r in rows if isinstance(r, Row)] == [
        "custody.booked",
        "court.hearing_scheduled",
    ]
