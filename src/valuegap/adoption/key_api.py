"""The pseudonymisation key (``ledger.governance.keys``): checked against the fingerprint the
ledger remembers before any person data is ingested, shown, restored from a backup, and rotated.

The ledger records its key's fingerprint when the key is first made (or, for a ledger made
before fingerprints, first used). From then on a missing key, or another one, stops every
ingest that meets a person: a new key would give everyone a new pseudonym, and every adoption
figure would split in two. ``restore_key`` puts the backed-up key back; ``rotate_key`` makes a
new key on purpose and re-keys the stored pseudonyms, so that people stay linked across it;
``move_key`` moves a key file that an older valuegap wrote beside the ledger to where keys are
kept now (adoption/keys.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from valuegap.adoption import keys
from valuegap.adoption.keys import PseudonymKey
from valuegap.errors import ConfigError, Problem, ValidationError
from valuegap.model.pseudonyms import pseudonym
from valuegap.records import record
from valuegap.session import Part
from valuegap.store.database import LEDGER_ID
from valuegap.store.writer import writes

FINGERPRINT = "pseudonym_key_fingerprint"
UNLINKED_AT = "pseudonym_key_unlinked_at"  # a rotation without the key: people split there
_AUDITED = ("pseudonym_key", "pseudonym_key")  # entity type and id of key.* audit entries


@record
class KeyStatus:
    """What ``valuegap key show`` says: never the key itself."""

    location: str  # the environment variable, else the key file in use (or to be made)
    fingerprint: str | None  # the ledger's, None until person data is first ingested
    state: str  # in_place | missing | differs | not_made_yet
    found_fingerprint: str | None  # of the key found there, when there is one
    keys_in_chain: int  # 1, and one more for each rotation that kept people linked
    unlinked_at: str | None  # when a rotation without the key split people in two
    move_to: str | None  # where `move_key` puts a key file still beside the ledger


@record
class KeyRotation:
    status: KeyStatus
    rekeyed: int  # how many distinct stored pseudonyms were re-keyed
    linked: bool  # whether people stored before stay linked to those ingested after


class KeyOnDemand:
    """The key an ingest uses, looked for (and checked) the first time it meets a person."""

    def __init__(self, find: Callable[[], PseudonymKey]) -> None:
        self._find = find
        self.key: PseudonymKey | None = None

    def __call__(self) -> PseudonymKey:
        if self.key is None:
            self.key = self._find()
        return self.key


class PseudonymKeys(Part):
    """The key that pseudonymises people: checked by every ingest that meets a person."""

    # For ingest

    def ingest_key(self, file: str) -> KeyOnDemand:
        """The key for ingesting ``file``, asked for only if it names a person; then
        ``remember_key`` in the ingest's transaction."""
        return KeyOnDemand(lambda: self._checked_key(file))

    def _checked_key(self, file: str) -> PseudonymKey:
        expected = self._db.get_meta(FINGERPRINT)
        places = self._places()
        found = keys.find_key(places)
        refused = f"{file} was not ingested; nothing from it was stored: it names people, and "
        if found is not None:
            if expected is None or expected == found.fingerprint:
                return found  # a ledger that has recorded no fingerprint takes the key present
            raise ConfigError(
                f"{refused}the pseudonymisation key in {found.source} (fingerprint "
                f"{found.fingerprint}) is not this ledger's (fingerprint {expected}): with it "
                "every person would get a new pseudonym, and adoption would split in two. "
                + _ways_forward(expected)
            )
        if expected is not None:
            raise ConfigError(
                f"{refused}this ledger's pseudonymisation key is missing: it was looked for in "
                f"{keys.where_looked(places)}. A new key would give every person a new "
                "pseudonym, and adoption would split in two. " + _ways_forward(expected)
            )
        if self._holds_pseudonyms():
            raise ConfigError(
                f"{refused}this ledger holds pseudonyms but neither their key nor its "
                f"fingerprint; the key was looked for in {keys.where_looked(places)}. "
                "Put the key back with `Ledger.governance.keys.restore_key()`, or make a new key "
                "on purpose with `Ledger.governance.keys.rotate_key()` (people ingested before "
                "it are then not linked to those after)."
            )
        return keys.make_key_file(places.file)

    def remember_key(self, used: KeyOnDemand) -> None:
        """Record the fingerprint of the key an ingest used, if the ledger has none yet."""
        if used.key is not None and self._db.get_meta(FINGERPRINT) is None:
            self._db.set_meta(FINGERPRINT, used.key.fingerprint)

    def _places(self) -> keys.KeyPlaces:
        setting = self.settings.pseudonym_key_file
        ledger_id = self._db.get_meta(LEDGER_ID)
        if ledger_id is None and not setting:  # made with the ledger: removed by hand
            raise ConfigError(
                f"{self._db.path} has lost its ledger id (ledger_meta's {LEDGER_ID}), which "
                "names its pseudonymisation key's file: set pseudonym_key_file to that file."
            )
        return keys.key_places(self._db.path, ledger_id or "", setting)

    def _holds_pseudonyms(self) -> bool:
        from valuegap.store.pseudonyms import holds_pseudonyms

        return holds_pseudonyms(self._db, self.settings.person_attributes)

    # valuegap key show | restore | rotate | move

    def key_status(self) -> KeyStatus:
        """Where the key is, its fingerprint and whether it is the ledger's; never the key."""
        self._require("key.manage")
        expected = self._db.get_meta(FINGERPRINT)
        places = self._places()
        found = keys.find_key(places)
        location = found.source if found is not None else str(places.file)
        unlinked_at = self._db.get_meta(UNLINKED_AT)
        move_to = str(places.file) if places.left_beside_ledger else None
        if found is None:
            state = "missing" if expected or self._holds_pseudonyms() else "not_made_yet"
            return KeyStatus(location, expected, state, None, 0, unlinked_at, move_to)
        if expected not in (None, found.fingerprint):
            return KeyStatus(
                location, expected, "differs", found.fingerprint, 0, unlinked_at, move_to
            )
        fingerprint = found.fingerprint
        return KeyStatus(
            location, fingerprint, "in_place", fingerprint, len(found.keys), unlinked_at, move_to
        )

    @writes
    def restore_key(self, backup: Path) -> KeyStatus:
        """Install a backed-up key file where the ledger's key is kept, if its fingerprint is
        the ledger's (any key, when the ledger has recorded none)."""
        self._require("key.manage")
        _refuse_while_env_key("restore")
        restored = keys.read_key_file(backup)
        expected = self._db.get_meta(FINGERPRINT)
        if expected not in (None, restored.fingerprint):
            raise ValidationError(
                f"{backup} was not restored; the key in place is unchanged.",
                [Problem(str(backup), f"holds a key with fingerprint {restored.fingerprint}, "
                         f"not this ledger's {expected}: find the backup of the key with "
                         f"fingerprint {expected}")],
            )  # fmt: skip
        places = self._places()
        present = keys.find_key(places)
        if present is not None and present.fingerprint != restored.fingerprint:
            raise ConfigError(
                f"{present.source} holds another key (fingerprint {present.fingerprint}), which "
                "the restore would overwrite; move it away, then restore again."
            )
        if present is None:
            with keys.key_file_written(restored, places.file), self._db.transaction():
                self._db.set_meta(FINGERPRINT, restored.fingerprint)
                after = {"fingerprint": restored.fingerprint, "from": backup.name}
                self._record("key.restore", *_AUDITED, {"fingerprint": expected}, after)
        return self.key_status()

    @writes
    def rotate_key(self) -> KeyRotation:
        """Make a new key on purpose. With the ledger's key in place, the new key extends its
        chain and every stored pseudonym ``p`` becomes ``pseudonym(new key, p)``, so people
        ingested after still match those before. Without it (lost, no backup) the stored
        pseudonyms stay as they are and cannot be linked to later ones: the rotation records
        when. The new chain is written where keys are kept now: a key file beside the ledger,
        whose keys begin it, is then removed."""
        from valuegap.store.pseudonyms import rekey_pseudonyms

        self._require("key.manage")
        _refuse_while_env_key("rotate")
        expected = self._db.get_meta(FINGERPRINT)
        places = self._places()
        present = keys.find_key(places)
        if present is not None and expected not in (None, present.fingerprint):
            raise ConfigError(
                f"{present.source} holds a key that is not this ledger's (fingerprint "
                f"{present.fingerprint}, not {expected}); rotating would lose it. Move it "
                "away, then rotate again (or restore the ledger's key with "
                "`Ledger.governance.keys.restore_key()`)."
            )
        added = keys.new_key()
        linked = present is not None
        rotated = (present or PseudonymKey((), "")).rotated(added, str(places.file))
        with keys.key_file_written(rotated, places.file), self._db.transaction():
            more = self.settings.person_attributes
            count = rekey_pseudonyms(self._db, lambda p: pseudonym(added, p), more) if linked else 0
            unlinked = not linked and self._holds_pseudonyms()
            if unlinked:
                self._db.set_meta(UNLINKED_AT, self._now().isoformat())
            self._db.set_meta(FINGERPRINT, rotated.fingerprint)
            after = {"fingerprint": rotated.fingerprint, "linked": not unlinked,
                     "pseudonyms_rekeyed": count}  # fmt: skip
            self._record("key.rotate", *_AUDITED, {"fingerprint": expected}, after)
        if present is not None and present.source == str(places.beside_ledger):
            keys.remove_beside_ledger(places)
        return KeyRotation(self.key_status(), count, not unlinked)

    def move_key(self) -> KeyStatus:
        """Move a key file that an older valuegap wrote beside the ledger to where keys are
        kept now (``key_status().move_to``), out of the folder that copies and commits take
        along. The old file is removed only once the new one holds its key. The ledger does
        not change: its key is the same."""
        self._require("key.manage")
        places = self._places()
        if not places.left_beside_ledger:
            raise ConfigError(
                f"There is no key file beside the ledger ({places.beside_ledger}) to move; "
                f"the ledger's key file is {places.file}."
            )
        keys.move_beside_ledger(places)
        return self.key_status()


def _ways_forward(expected: str) -> str:
    return (
        "Put the backed-up key back with `Ledger.governance.keys.restore_key()` (its fingerprint "
        f"must be {expected}; unset {keys.ENV_KEY} if it holds another key), or make a new key "
        "on purpose with `Ledger.governance.keys.rotate_key()` (people ingested before it are "
        "then not linked to those after)."
    )


def _refuse_while_env_key(what: str) -> None:
    if keys.env_key() is not None:
        raise ConfigError(
            f"The key comes from {keys.ENV_KEY}, which valuegap cannot {what}: unset it, then "
            f"`Ledger.governance.keys.{what}_key()` works on the ledger's key file "
            "(`Ledger.governance.keys.restore_key()` installs a file holding the variable's value)."
        )
