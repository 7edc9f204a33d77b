"""The key an event is decided under for a recipient agency: the defender's client number
when the recipient's office holds the person as a client, else the master person (or, for
an event about no person, its case). Routing itself is set-wise, in ``exchange.bulk``."""

from __future__ import annotations

from accord.exchange.bulk import client_key, client_keys
from accord.exchange.models import Event


def client_key_for(event: Event, recipient_agency_id: int) -> str:
    """The key consents and screens are filed under, for one event and one recipient."""
    return client_key(event, recipient_agency_id, client_keys([event], {recipient_agency_id}))
