"""Person identifiers are replaced at ingest by a keyed hash (HMAC-SHA256); the raw value is
never stored. The key lives outside the ledger file, so the ledger alone cannot be re-identified:
``VALUEGAP_PSEUDONYM_KEY`` if set, else a key file beside the ledger (``<ledger>.key``), made on
first use and readable only by its owner."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ENV_KEY = "VALUEGAP_PSEUDONYM_KEY"


def pseudonym(key: bytes, identity: str) -> str:
    """The pseudonym of an identity: stable for one key, unlinkable without it."""
    digest = hmac.new(key, identity.strip().lower().encode(), hashlib.sha256).hexdigest()
    return "p_" + digest[:32]


def load_key(ledger_path: Path) -> bytes:
    if value := os.environ.get(ENV_KEY):
        return value.encode()
    key_file = ledger_path.with_name(ledger_path.name + ".key")
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()
