"""The cases API (/api/v1/cases): the defender's clients, cases and their parts, privileged
notes and documents, conflict check hits, ticklers, calendars and feeds.

Who may call it is decided by ``cases.access``: the defender's case staff (people), and
its systems holding ``cases:read`` / ``cases:write`` tokens — never for privileged notes
and documents, which are for the case's team and supervisors only. Anyone else is refused
(403) everywhere; a case the caller may not see answers 404, as if it did not exist.
"""

from ninja import Router

router = Router(tags=["cases"])

# The operations register themselves on the router when their modules load.
from accord.cases.api import records, privileged, work, partners  # noqa: E402, F401, I001

__all__ = ["router"]
