"""The people app's models: records (``records``), linkage (``linkage``), conflict checks
(``conflicts``)."""

from accord.people.models.conflicts import (
    CheckSource,
    ConflictCandidate,
    ConflictCheck,
    ConflictHit,
    HitDecision,
)
from accord.people.models.linkage import (
    LinkageModel,
    LinkMethod,
    MasterMerge,
    MasterPerson,
    MatchReview,
    MergedRecord,
    PersonLink,
    ReviewStatus,
)
from accord.people.models.records import (
    IdentifierKind,
    PartyRole,
    PersonAlias,
    PersonKey,
    PersonRecord,
    PersonRole,
    Sex,
    encode_match_data,
)

__all__ = [
    "CheckSource",
    "ConflictCandidate",
    "ConflictCheck",
    "ConflictHit",
    "HitDecision",
    "IdentifierKind",
    "LinkMethod",
    "LinkageModel",
    "MasterMerge",
    "MasterPerson",
    "MatchReview",
    "MergedRecord",
    "PartyRole",
    "PersonAlias",
    "PersonKey",
    "PersonLink",
    "PersonRecord",
    "PersonRole",
    "ReviewStatus",
    "Sex",
    "encode_match_data",
]
