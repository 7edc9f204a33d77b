"""Text messages through a pluggable backend, shaped like Django's e-mail backends.

``settings.ACCORD_SMS_BACKEND`` names the backend class by dotted path; empty means no
text messages are sent at all (the production default until an office configures a
gateway). A backend is a class with ``send_messages(messages) -> int``; a gateway's
adapter (Twilio, an SMPP relay, a county's own service) is one small class outside this
repository, configured by its dotted path. Messages carry no client details: a text says
that something arrived and to sign in, like the e-mails.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    """One text message to one E.164 number."""

    to: str
    body: str
    sent_at: datetime = field(default_factory=timezone.now)


class BaseSmsBackend:
    """What every backend does: send some messages, return how many went out."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        self.fail_silently = fail_silently

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Writes each message to standard output (the demo and development default)."""

    def __init__(self, stream: IO[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(f"SMS to {message.to}: {message.body}\n")
            self.stream.flush()
        return len(messages)


class FileBackend(BaseSmsBackend):
    """Appends each message as a line to ``<ACCORD_VAR_DIR>/sms/messages.log`` (or
    ``settings.ACCORD_SMS_FILE_PATH``), for end-to-end checks of a running server."""

    def __init__(self, file_path: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = Path(
            file_path
            or getattr(settings, "ACCORD_SMS_FILE_PATH", None)
            or Path(settings.VAR_DIR) / "sms" / "messages.log"
        )

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            for message in messages:
                out.write(f"{message.sent_at.isoformat()}\t{message.to}\t{message.body}\n")
        return len(messages)


# What the locmem backend sent, like ``django.core.mail.outbox`` (tests empty it).
outbox: list[SmsMessage] = []


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in :data:`outbox` (the test default)."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_backend(path: str | None = None, **kwargs: Any) -> BaseSmsBackend | None:
    """The configured backend, or None when text messages are switched off."""
    dotted = path if path is not None else getattr(settings, "ACCORD_SMS_BACKEND", "")
    if not dotted:
        return None
    backend: BaseSmsBackend = import_string(dotted)(**kwargs)
    return backend


def send_sms(to: str, body: str) -> int:
    """Send one text message; 0 when no backend is configured."""
    backend = get_backend()
    if backend is None:
        return 0
    return backend.send_messages([SmsMessage(to=to, body=body)])
