"""The pseudonymisation key: where it is, its fingerprint, and its file.

The key lives outside the ledger file, so that the ledger alone cannot be re-identified:
``VALUEGAP_PSEUDONYM_KEY`` if set (its value, exactly, is the key), else the key file beside the
ledger (``<ledger>.key``, readable only by its owner). The ledger keeps only the key's
fingerprint, so that another key is noticed before it gives everyone a new pseudonym.

A key file holds one key a line. After ``valuegap key rotate`` it holds the chain of keys,
oldest first: an identity's pseudonym is the first key's, pseudonymised again with each later
key, so the pseudonyms stored before a rotation (re-keyed with the new key) still match the
people ingested after it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from valuegap.errors import Problem, ValidationError
from valuegap.inputs import file_problem
from valuegap.model.pseudonyms import pseudonym

ENV_KEY = "VALUEGAP_PSEUDONYM_KEY"
_FINGERPRINT_LABEL = b"valuegap key fingerprint"


@dataclass(frozen=True)
class PseudonymKey:
    """A key (a chain of keys after a rotation, oldest first) and where it was found."""

    keys: tuple[bytes, ...]
    source: str  # the key file's path, or the environment variable's name

    @property
    def fingerprint(self) -> str:
        """Names the key without revealing it: HMAC-SHA256 of a fixed text under the key,
        64 bits in hex."""
        digest = hmac.new(b"\n".join(self.keys), _FINGERPRINT_LABEL, hashlib.sha256)
        return digest.hexdigest()[:16]

    def pseudonymise(self, identity: str) -> str:
        value = identity
        for key in self.keys:
            value = pseudonym(key, value)
        return value

    def rotated(self, key: bytes, source: str) -> PseudonymKey:
        """This chain with ``key`` after it."""
        return PseudonymKey((*self.keys, key), source)


def new_key() -> bytes:
    return secrets.token_hex(32).encode()


def key_file(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".key")


def env_key() -> PseudonymKey | None:
    value = os.environ.get(ENV_KEY)
    return PseudonymKey((value.encode(),), ENV_KEY) if value else None


def find_key(ledger: Path) -> PseudonymKey | None:
    """The key the ledger at ``ledger`` would use now, or None when there is none."""
    if (found := env_key()) is not None:
        return found
    path = key_file(ledger)
    return read_key_file(path) if path.exists() else None


def read_key_file(path: Path) -> PseudonymKey:
    if (problem := file_problem(path)) is not None:
        raise ValidationError(f"{path} holds no key.", [problem])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""  # not a key file valuegap wrote
    keys = tuple(line.strip().encode() for line in text.splitlines() if line.strip())
    if not keys:
        raise ValidationError(
            f"{path} holds no key.",
            [Problem(str(path), "is not a key file: it holds one key a line, as text")],
        )
    return PseudonymKey(keys, str(path))


def throwaway_key() -> PseudonymKey:
    """A key for reading a file whose pseudonyms are not kept (removal finds events by their
    keys, which hold no person data): no key file is looked for or made."""
    return PseudonymKey((new_key(),), "(none: the pseudonyms are not kept)")


def make_key_file(path: Path) -> PseudonymKey:
    """A new key, in a new key file at ``path``."""
    made = PseudonymKey((new_key(),), str(path))
    _write_new(path, made)
    return made


@contextmanager
def key_file_written(key: PseudonymKey, path: Path) -> Iterator[None]:
    """Write ``key`` beside ``path`` and let the caller record it; only when the caller's
    block succeeds does the new file take ``path``'s place."""
    staged = path.with_name(path.name + ".new")
    staged.unlink(missing_ok=True)
    _write_new(staged, key)
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise
    os.replace(staged, path)


def _write_new(path: Path, key: PseudonymKey) -> None:
    """A key file at ``path``, which must not exist yet, readable only by its owner."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"".join(k + b"\n" for k in key.keys))


def where_looked(ledger: Path) -> str:
    """Where the key was looked for, and what was found there, for an error message."""
    env = "set" if os.environ.get(ENV_KEY) else "not set"
    path = key_file(ledger)
    found = "present" if path.exists() else "no such file"
    return f"{ENV_KEY} ({env}), then the key file {path} ({found})"
