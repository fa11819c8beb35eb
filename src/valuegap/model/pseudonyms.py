"""Person identifiers are replaced at ingest by a keyed hash (HMAC-SHA256); the raw value is
never stored. The key lives outside the ledger file (``adoption/keys.py``), and is asked for
only when an ingest meets a person.

An identity is compared without its surrounding white space and letter case, so that
``Ana@Corp `` and ``ana@corp`` are the same person. Pseudonyms are computed in Python only, for
the distinct identities an ingest finds, so that every source gives a person the same one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection
from typing import Protocol

from valuegap.records import record


class Pseudonymiser(Protocol):
    """A pseudonymisation key (``adoption.keys.PseudonymKey``)."""

    def pseudonymise(self, identity: str) -> str: ...


# Attributes that identify a person: OpenTelemetry's user.* and enduser.* (user.email,
# user.full_name, enduser.pseudo.id, ...) and client.address, and LiteLLM's user and end_user.
PERSON_PREFIXES = ("user.", "enduser.")
PERSON_ATTRIBUTES = frozenset({"client.address", "user", "end_user", "gen_ai.user.id"})


def is_person_attribute(name: str, more: Collection[str] = ()) -> bool:
    """Whether the attribute ``name`` identifies a person (``more``: the organisation's own
    names, from the setting person_attributes)."""
    key = name.strip().lower()
    return key.startswith(PERSON_PREFIXES) or key in PERSON_ATTRIBUTES or key in more


def pseudonym(key: bytes, identity: str) -> str:
    """The pseudonym of an identity: stable for one key, unlinkable without it."""
    normal = identity.strip().lower().encode()
    return "p_" + hmac.new(key, normal, hashlib.sha256).hexdigest()[:32]


@record
class PersonData:
    """How an ingest treats person data: the key (asked for the first time a person is met, so
    that data without people needs none), and the organisation's own attribute names that
    identify a person (the setting person_attributes)."""

    key: Callable[[], Pseudonymiser]
    more: tuple[str, ...] = ()

    def pseudonymise(self, identity: str) -> str:
        return self.key().pseudonymise(identity)

    def is_person(self, name: str) -> bool:
        return is_person_attribute(name, self.more)
