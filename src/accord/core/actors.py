"""Who is acting: a signed-in person, an agency system holding an API token, or Accord itself.

Every action takes one ``actor`` keyword argument; it carries what the audit log records
(who, for which agency, from which address, in which request) and what access decisions
read (roles, attributes, token scopes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Actor:
    label: str
    user_id: int | None = None
    token_id: int | None = None
    agency_id: int | None = None
    roles: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    scopes: frozenset[str] | None = None  # None for people: scopes limit tokens only
    request_id: str = ""
    source_ip: str | None = None
    is_system: bool = False

    def has_role(self, *roles: str) -> bool:
        return self.is_system or bool(self.roles.intersection(roles))

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def within(self, request_id: str, source_ip: str | None) -> Actor:
        return replace(self, request_id=request_id, source_ip=source_ip)


SYSTEM = Actor(label="system", is_system=True)
ANONYMOUS = Actor(label="anonymous")
