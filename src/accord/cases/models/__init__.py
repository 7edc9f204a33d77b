"""The cases app's models: reference data (``reference``), case records (``records``),
conflict checks of cases (``conflicts``), privileged material (``privileged``), ticklers
(``deadlines``), calendar feeds (``calendar``) and what partner agencies' events changed
(``partners``)."""

from accord.cases.models.calendar import CalendarFeed
from accord.cases.models.conflicts import (
    CaseConflictCheck,
    CaseConflictSubject,
    CheckTrigger,
    current_hits,
    hits_visible_to,
)
from accord.cases.models.deadlines import (
    VALUED_TRIGGERS,
    Tickler,
    TicklerRule,
    TicklerStatus,
    Trigger,
)
from accord.cases.models.partners import CHANGED, PartnerChange, PartnerUpdate
from accord.cases.models.privileged import (
    PRIVILEGED_LABEL,
    CaseNote,
    Document,
    DocumentContent,
    NoteKind,
)
from accord.cases.models.records import (
    DISPOSITION_GROUPS,
    Assignment,
    Case,
    CaseStatus,
    Charge,
    ChargeDisposition,
    ChargeLevel,
    Client,
    CourtEvent,
    CustodyStatus,
    Disposition,
    EventKind,
    EventStatus,
    Party,
    TeamRole,
)
from accord.cases.models.reference import CaseType

__all__ = [
    "CHANGED",
    "DISPOSITION_GROUPS",
    "PRIVILEGED_LABEL",
    "VALUED_TRIGGERS",
    "Assignment",
    "CalendarFeed",
    "Case",
    "CaseConflictCheck",
    "CaseConflictSubject",
    "CaseNote",
    "CaseStatus",
    "CaseType",
    "Charge",
    "ChargeDisposition",
    "ChargeLevel",
    "CheckTrigger",
    "Client",
    "CourtEvent",
    "CustodyStatus",
    "Disposition",
    "Document",
    "DocumentContent",
    "EventKind",
    "EventStatus",
    "NoteKind",
    "PartnerChange",
    "PartnerUpdate",
    "Party",
    "TeamRole",
    "Tickler",
    "TicklerRule",
    "TicklerStatus",
    "Trigger",
    "current_hits",
    "hits_visible_to",
]
