"""What an uploaded file is, judged from its bytes rather than its name or the browser's
word for it; the size limit; and the hook where a virus scanner plugs in.

Settings (all optional):

* ``CASES_DOCUMENT_MAX_BYTES`` — largest file accepted (default 25 MiB).
* ``CASES_VIRUS_SCANNER`` — dotted path of a callable ``scan(content: bytes, filename: str)
  -> str`` that returns a verdict to record (e.g. ``"clean: ClamAV 1.3"``) or raises
  :class:`FileRefused` naming the threat. Default: none (documents are marked "not scanned").
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import PurePosixPath

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
NOT_SCANNED = "not scanned"


class FileRefused(Exception):
    """The file is not accepted (its type, its size, or the scanner's verdict)."""

    def __init__(self, reason: str, *, scanner: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.scanner = scanner


def max_bytes() -> int:
    return int(getattr(settings, "CASES_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


# Signatures of the types a defense file holds: documents, images, audio and video
# (discovery: body-camera footage, jail calls). First match wins.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"{\\rtf", 0, "application/rtf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),
    (b"ID3", 0, "audio/mpeg"),
    (b"ftyp", 4, "video/mp4"),
)
_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()\-]+")


def sniff(content: bytes) -> str:
    """The content type of ``content``, or raise :class:`FileRefused` for anything else
    (executables, scripts, HTML, archives that are not office documents)."""
    for magic, offset, kind in _SIGNATURES:
        if content[offset : offset + len(magic)] == magic:
            return kind
    if content[:4] == b"RIFF" and content[8:12] in (b"WAVE", b"WEBP"):
        return "audio/wav" if content[8:12] == b"WAVE" else "image/webp"
    if content[:2] == b"\xff\xfb" or content[:2] == b"\xff\xf3":
        return "audio/mpeg"
    if content[:4] == b"PK\x03\x04":
        return _office_document(content)
    if _plain_text(content):
        return "text/plain"
    raise FileRefused(
        "This kind of file is not accepted: upload a PDF, an image, an office document, "
        "plain text, audio or video."
    )


def _office_document(content: bytes) -> str:
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRefused("The file is a damaged archive.") from exc
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML.items():
            if any(n.startswith(prefix) for n in names):
                return kind
    raise FileRefused("Archives are not accepted; upload the files in them one by one.")


def _plain_text(content: bytes) -> bool:
    sample = content[:8192]
    if b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the sample's end is still text.
        try:
            text = sample[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    lowered = text.lstrip().lower()
    # Markup a browser would run is not "plain text", whatever its name says.
    return not lowered.startswith(("<!doctype html", "<html", "<script", "<svg", "<?xml"))


def safe_filename(name: str) -> str:
    """The uploaded name without its path and without characters that matter to a shell or
    a Content-Disposition header."""
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    cleaned = _SAFE_NAME.sub("_", base).strip(" .")
    return (cleaned or "document")[:200]


def scanner() -> Callable[[bytes, str], str] | None:
    path = getattr(settings, "CASES_VIRUS_SCANNER", None)
    if not path:
        return None
    found: Callable[[bytes, str], str] = import_string(str(path))
    return found


def scan(content: bytes, filename: str) -> str:
    """The scanner's verdict, or "not scanned" when none is configured."""
    hook = scanner()
    if hook is None:
        return NOT_SCANNED
    return str(hook(content, filename))[:120] or "scanned"
