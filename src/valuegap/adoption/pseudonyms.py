"""Person identifiers are replaced at ingest by a keyed hash (HMAC-SHA256); the raw value is
never stored. The key lives outside the ledger file, so the ledger alone cannot be re-identified:
``VALUEGAP_PSEUDONYM_KEY`` if set, else a key file beside the ledger (``<ledger>.key``), made on
first use and readable only by its owner.

An identity is compared without its surrounding white space and letter case, so that
``Ana@Corp `` and ``ana@corp`` are the same person. Pseudonyms are computed in Python only, for
the distinct identities an ingest finds, so that every source gives a person the same one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

ENV_KEY = "VALUEGAP_PSEUDONYM_KEY"

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


@dataclass(frozen=True)
class PersonData:
    """How an ingest treats person data: the key, and the organisation's own attribute names
    that identify a person (the setting person_attributes)."""

    key: bytes
    more: tuple[str, ...] = ()

    def pseudonymise(self, identity: str) -> str:
        return pseudonym(self.key, identity)

    def is_person(self, name: str) -> bool:
        return is_person_attribute(name, self.more)


def load_key(ledger_path: Path) -> bytes:
    if value := os.environ.get(ENV_KEY):
        return value.encode()
    key_file = ledger_path.with_name(ledger_path.name + ".key")
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()
