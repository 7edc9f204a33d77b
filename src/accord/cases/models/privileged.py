"""Privileged material: attorney-client notes, work product and case documents, each
encrypted at rest (AES-256-GCM envelopes, ``accord.core.crypto``) and readable only by the
case's assigned team and the office's supervisors (ABA Model Rule 1.6; the work-product
doctrine, Fed. R. Crim. P. 16(b)(2))."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from accord.cases.access import restrict_privileged
from accord.core import crypto
from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor

PRIVILEGED_LABEL = "Privileged & confidential — attorney-client communication / work product"


class PrivilegedQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> PrivilegedQuerySet:
        """The assigned team and supervisors of the defender; never a token, never another
        agency, never anyone screened from the client."""
        return restrict_privileged(self, actor)


class NoteKind(models.TextChoices):
    NOTE = "note", "Privileged note"
    WORK_PRODUCT = "work_product", "Work product"


class CaseNote(ProtectedModel):
    """A privileged note or work product of a case, its text sealed at rest. The text is
    never indexed, searched, or sent to anyone outside the case team."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="notes")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=NoteKind.choices, default=NoteKind.NOTE)
    sealed_text = models.BinaryField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    author_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    objects = PrivilegedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["case", "-created_at"], name="note_case")]

    def __str__(self) -> str:
        return f"note #{self.pk} of case #{self.case_id}"

    def _aad(self) -> str:
        # Bound to this row and its case: a sealed text copied elsewhere does not open.
        return f"cases.note:{self.uid}:{self.case_id}"

    def seal(self, text: str) -> None:
        self.sealed_text = crypto.encrypt(text.encode(), self._aad())

    @property
    def text(self) -> str:
        return crypto.decrypt(bytes(self.sealed_text), self._aad()).decode()

    @property
    def label(self) -> str:
        return PRIVILEGED_LABEL


class Document(ProtectedModel):
    """A file of a case (discovery, a report, a photograph), sealed at rest; its bytes live
    in :class:`DocumentContent` so listing documents never loads them."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="documents")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True, default="")
    content_type = models.CharField(max_length=100, help_text="As sniffed from the content")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    scan = models.CharField(max_length=120, default="not scanned")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_by_label = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = PrivilegedQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["case", "-uploaded_at"], name="document_case")]

    def __str__(self) -> str:
        return f"document #{self.pk} of case #{self.case_id}"

    def aad(self) -> str:
        return f"cases.document:{self.uid}:{self.case_id}:{self.sha256}"

    @property
    def label(self) -> str:
        return PRIVILEGED_LABEL


class DocumentContent(ProtectedModel):
    """The sealed bytes of one document (in the database, so a document and its content
    commit or roll back together)."""

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="content"
    )
    sealed = models.BinaryField()

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"content of {self.document_id}"
