"""Person identifiers are replaced at ingest by a keyed hash (HMAC-SHA256); the raw value is
never stored. The key lives outside the ledger file, so the ledger alone cannot be re-identified:
``VALUEGAP_PSEUDONYM_KEY`` if set, else a key file beside the ledger (``<ledger>.key``), made on
first use and readable only by its owner.

An identity is compared without its surrounding white space and letter case, so that
``Ana@Corp `` and ``ana@corp`` are the same person. The same pseudonym is computed in Python
(``pseudonym``) and, for values read by SQL, by ``hmac_pads``' halves of the same HMAC.
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
WHITE_SPACE = " \t\n\r\x0b\x0c"  # what is stripped from an identity, in Python and in SQL

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
    normal = identity.strip(WHITE_SPACE).lower().encode()
    return "p_" + hmac.new(key, normal, hashlib.sha256).hexdigest()[:32]


def hmac_pads(key: bytes) -> tuple[str, str]:
    """HMAC-SHA256's inner and outer padded keys, in hexadecimal, for SQL that computes
    ``pseudonym`` as sha256(outer || sha256(inner || identity))."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block).hex(), bytes(b ^ 0x5C for b in block).hex()


@dataclass(frozen=True)
class PersonData:
    """How an ingest treats person data: the key, and the organisation's own attribute names
    that identify a person (the setting person_attributes)."""

    key: bytes
    more: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = PERSON_PREFIXES

    @property
    def names(self) -> frozenset[str]:
        return PERSON_ATTRIBUTES | set(self.more)

    @property
    def pads(self) -> tuple[str, str]:
        return hmac_pads(self.key)

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
