"""The pseudonymisation key: where it is, its fingerprint, and its file.

The key lives outside the ledger's folder, so that the ledger, or a copy, a backup or a commit
of its folder, cannot re-identify anyone: ``VALUEGAP_PSEUDONYM_KEY`` if set (its value,
exactly, is the key), else the key file, readable only by its owner: the setting
``pseudonym_key_file``, else ``keys/<ledger id>.key`` in the user's configuration directory.
The ledger id is random, made with the ledger and kept by its copies, which hold the same
pseudonyms and so need the same key. A key file that an older valuegap wrote beside the ledger
(``<ledger>.key``) is used while there is none at the key file's place, until it is moved
there. The ledger keeps only the key's fingerprint, so that another key is noticed before it
gives everyone a new pseudonym.

A key file holds one key a line. After ``valuegap key rotate`` it holds the chain of keys,
oldest first: an identity's pseudonym is the first key's, pseudonymised again with each later
key, so the pseudonyms stored before a rotation (re-keyed with the new key) still match the
people ingested after it. A key file is written whole or not at all (written beside its place,
then renamed into it), and never replaced by a new key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from valuegap.errors import ConfigError, Problem, ValidationError
from valuegap.inputs import file_problem
from valuegap.model.pseudonyms import pseudonym
from valuegap.records import record
from valuegap.settings import config_directory

ENV_KEY = "VALUEGAP_PSEUDONYM_KEY"
KEYS_FOLDER = "keys"  # in valuegap's configuration directory
_FINGERPRINT_LABEL = b"valuegap key fingerprint"


@record
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


@record
class KeyPlaces:
    """Where a ledger's key file is: ``file``, where it is made, restored and rotated; and
    ``beside_ledger``, where an older valuegap made it, still used while ``file`` is not there."""

    file: Path
    beside_ledger: Path

    def in_use(self) -> Path | None:
        """The key file the ledger uses now, if there is one."""
        return next((path for path in (self.file, self.beside_ledger) if _exists(path)), None)

    @property
    def left_beside_ledger(self) -> bool:
        """Whether a key file is still beside the ledger, to be moved to ``file``."""
        return self.beside_ledger != self.file and _exists(self.beside_ledger)


def key_places(ledger: Path, ledger_id: str, setting: str | None) -> KeyPlaces:
    """The places of the key of the ledger at ``ledger``: ``setting`` (``pseudonym_key_file``)
    if given, else a file named by the ledger's id in the user's configuration directory."""
    if setting:
        file = Path(setting).expanduser()
    else:
        file = config_directory() / KEYS_FOLDER / f"{ledger_id}.key"
    return KeyPlaces(file, ledger.with_name(ledger.name + ".key"))


def env_key() -> PseudonymKey | None:
    value = os.environ.get(ENV_KEY)
    return PseudonymKey((value.encode(),), ENV_KEY) if value else None


def find_key(places: KeyPlaces) -> PseudonymKey | None:
    """The key the ledger would use now, or None when there is none."""
    if (found := env_key()) is not None:
        return found
    path = places.in_use()
    return read_key_file(path) if path is not None else None


def read_key_file(path: Path) -> PseudonymKey:
    if (problem := file_problem(path)) is not None:
        raise ValidationError(f"{path} holds no key.", [problem])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""  # not a key file valuegap wrote
    except OSError as exc:
        raise ConfigError(
            f"The pseudonymisation key file {path} cannot be read ({exc.strerror or exc})."
        ) from None
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
    _write_new(made, path)
    return made


@contextmanager
def key_file_written(key: PseudonymKey, path: Path) -> Iterator[None]:
    """Write ``key`` beside ``path`` and let the caller record it; only when the caller's
    block succeeds does the new file take ``path``'s place."""
    with _writing(path):
        staged = _staged(key, path)
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise
    try:
        os.replace(staged, path)
    except OSError as exc:  # after the caller recorded the key: keep it, and say where
        raise ConfigError(
            f"The new pseudonymisation key is in {staged} but could not take its place at "
            f"{path} ({exc.strerror or exc}): move it there, as the ledger now expects it."
        ) from None


def move_beside_ledger(places: KeyPlaces) -> None:
    """Move the key file left beside the ledger to ``places.file`` (unless that holds the same
    key already); the old file is removed only once the new one reads back as its key."""
    if not _exists(places.file):
        _write_new(read_key_file(places.beside_ledger), places.file)
    remove_beside_ledger(places)


def remove_beside_ledger(places: KeyPlaces) -> None:
    """Remove the key file left beside the ledger once ``places.file`` holds its keys: the
    same, or a chain that starts with them (after a rotation). Else change nothing."""
    old = read_key_file(places.beside_ledger)
    new = read_key_file(places.file)
    if new.keys[: len(old.keys)] != old.keys:
        raise ConfigError(
            f"{places.beside_ledger} (fingerprint {old.fingerprint}) and {places.file} "
            f"(fingerprint {new.fingerprint}) hold different keys, so neither was changed. "
            "Keep the one whose fingerprint is the ledger's "
            "(`Ledger.governance.keys.key_status()`), and move the other away."
        )
    with _writing(places.beside_ledger):
        places.beside_ledger.unlink()


def _write_new(key: PseudonymKey, path: Path) -> None:
    """A key file at ``path``, where there is none."""
    with _writing(path):
        staged = _staged(key, path)
        try:
            os.link(staged, path)  # unlike a rename, never replaces a key file made meanwhile
        finally:
            staged.unlink()


def _staged(key: PseudonymKey, path: Path) -> Path:
    """A new file beside ``path`` holding ``key``, readable only by its owner, to be renamed
    into place; ``path``'s folder is made, for its owner only, if it is not there."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"".join(k + b"\n" for k in key.keys))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A key file that cannot be written, as an error that says where and what to do."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(
            f"The pseudonymisation key file {path} cannot be written ({exc.strerror or exc}); "
            "nothing was changed. Make its folder writable by you, or set pseudonym_key_file "
            "(VALUEGAP_PSEUDONYM_KEY_FILE) to a file you can write."
        ) from None


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:  # a folder on the way that the user may not enter
        raise ConfigError(
            f"The pseudonymisation key file {path} cannot be looked for ({exc.strerror or exc})."
        ) from None


def where_looked(places: KeyPlaces) -> str:
    """Where the key was looked for, and what was found there, for an error message."""
    env = "set" if os.environ.get(ENV_KEY) else "not set"
    looked = [f"{ENV_KEY} ({env})", f"the key file {places.file} ({_found(places.file)})"]
    if places.beside_ledger != places.file:
        looked.append(f"{places.beside_ledger} ({_found(places.beside_ledger)})")
    return ", then ".join(looked)


def _found(path: Path) -> str:
    return "present" if _exists(path) else "no such file"
