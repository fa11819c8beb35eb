"""Signed checkpoints: the audit chain's head, signed with a key the ledger file does not hold.

Whoever can write the ledger file can rewrite its log and recompute every hash; they cannot
sign. A checkpoint is (seq, hash, the head entry's time, when it was signed) signed with
Ed25519. It is kept where the governance council keeps it (a JSON-lines file, or sent to a
webhook), and a log extends it when its entry ``seq`` still has that ``hash`` (the chain after
it being intact). The private key lives in the user's configuration directory (or where the
setting ``audit_key`` says), made on first use readable by its owner only; its public key is
written beside it (``.pub``), for verifiers, who need no private key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valuegap.errors import ConfigError, Problem, ValidationError, ValuegapError
from valuegap.inputs import read_text
from valuegap.records import record
from valuegap.settings import config_directory

# cryptography and urllib.request are imported where a key is used or a checkpoint sent: every
# ledger imports this module (for Checkpoint), few sign.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

KEY_FILE = "audit-key.pem"


@record
class Checkpoint:
    seq: int
    hash: str
    recorded_at: str  # the head entry's time (UTC)
    signed_at: str  # UTC
    key_id: str  # the first 16 hex digits of the SHA-256 of the raw public key
    signature: str = ""  # base64 Ed25519 over the other fields' canonical JSON

    def signed_part(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def key_path(setting: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The private key's file: the setting ``audit_key``, else ``audit-key.pem`` in
    ``$XDG_CONFIG_HOME/valuegap`` (``~/.config/valuegap`` without it)."""
    if setting:
        return Path(setting).expanduser()
    return config_directory(env) / KEY_FILE


def public_path(private: Path) -> Path:
    return private.with_suffix(".pub")


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key at ``path``, made there (mode 0600, its public key beside) if none is."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as file:
            file.write(pem)
        public_path(path).write_bytes(_public_pem(key.public_key()))
        return key
    if path.stat().st_mode & 0o077:
        raise ConfigError(
            f"The audit key {path} can be read by others than its owner; `chmod 600 {path}` "
            "and sign again (anyone who can read it can sign checkpoints)."
        )
    try:
        found = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise ConfigError(f"{path} is not a PEM private key: restore it from its backup.") from None
    if not isinstance(found, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key.")
    return found


def verifying_key(path: Path) -> Ed25519PublicKey:
    """A public key file (PEM), or the public half of a private key file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not path.is_file():
        raise ConfigError(
            f"There is no key at {path} to check the checkpoints with: give the public key the "
            "checkpoints were signed with (audit-key.pub) as `public_key`."
        )
    data = path.read_bytes()
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path} is not a PEM key.") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 key.")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(
    key: Ed25519PrivateKey, seq: int, digest: str, recorded: datetime, now: datetime
) -> Checkpoint:
    unsigned = Checkpoint(seq, digest, _utc(recorded), _utc(now), key_id(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.signed_part())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def check_signature(checkpoint: Checkpoint, key: Ed25519PublicKey) -> str | None:
    """Why ``checkpoint`` was not signed by ``key``; None when it was."""
    from cryptography.exceptions import InvalidSignature

    if checkpoint.key_id != key_id(key):
        return f"it was signed by another key ({checkpoint.key_id}, not {key_id(key)})"
    try:
        key.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_part())
    except (InvalidSignature, ValueError):
        return "its signature does not match its content"
    return None


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a JSON-lines file, oldest first."""
    if not path.is_file():
        raise ConfigError(
            f"There is no checkpoint file {path}; "
            f"`Ledger.governance.audit.checkpoint({str(path)!r})` writes one."
        )
    found = []
    for number, text in enumerate(read_text(path).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            found.append(Checkpoint(**json.loads(text)))
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                f"{path} cannot be read as checkpoints.",
                [Problem(f"{path}, line {number}", f"is not a checkpoint ({exc})", text[:80])],
            ) from None
    if not found:
        raise ConfigError(
            f"{path} holds no checkpoint; `Ledger.governance.audit.checkpoint({str(path)!r})` "
            "writes one."
        )
    return found


def deliver(checkpoint: Checkpoint, to: str) -> str:
    """Append ``checkpoint`` to the file ``to``, or POST it to the URL ``to``; say where."""
    if to.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            to,
            data=checkpoint.line().encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        where = _webhook_host(to)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except (urllib.error.URLError, OSError) as exc:
            raise ValuegapError(
                f"The checkpoint was signed but not delivered to {where}: {exc}. Nothing else "
                "changed; make it again (`Ledger.governance.audit.checkpoint()`) when the webhook "
                "answers."
            ) from None
        return f"sent to {where} (HTTP {status})"
    path = Path(to)
    try:
        with path.open("a", encoding="utf-8") as file:
            file.write(checkpoint.line() + "\n")
    except OSError as exc:
        raise ConfigError(
            f"The checkpoint was signed but not written to {path}: {exc.strerror}. Nothing else "
            "changed; give a file in a folder you can write, and make it again."
        ) from None
    return f"appended to {path}"


def _webhook_host(url: str) -> str:
    """A webhook as it may be shown: its scheme and host, never its path or query (where a
    token often is)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


def _utc(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat() + "Z"


def _public_pem(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
