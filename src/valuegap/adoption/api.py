"""The adoption part of the ledger (``ledger.adoption``): loading the org chart, adoption
records and surveys, and retention (docs/privacy.md).

Every ingest is whole or nothing (every bad row named by row, column and value, and nothing
stored), and the same file twice changes nothing. People are pseudonymised with the ledger's
key (``ledger.governance.keys``) before anything is written: a missing key, or another key
than the ledger's, stops the ingest. Each adoption ingest then applies retention: records
older than ``adoption_retention_months`` are reduced to weekly aggregates and deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from valuegap.model.ingest import IngestResult
from valuegap.months import add_months
from valuegap.session import Part, Session
from valuegap.sources import Input, Source, opened
from valuegap.store.costs import CostStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.adoption.key_api import PseudonymKeys
    from valuegap.store.staging import Staged

# (source, ingest id) -> (rows new or changed, whether anything changed)
Load = Callable[["Staged", int], tuple[int, bool]]


@dataclass(frozen=True)
class Retention:
    """What retention did: the records of the days before ``first_kept`` were reduced to
    ``weeks_added`` weekly aggregates and ``records_deleted`` were deleted."""

    first_kept: date
    records_deleted: int
    weeks_added: int


class Adoption(Part):
    """Who has access to AI, knows of it, is trained and uses it, counted per org unit; the
    org chart; surveys of executive confidence and manager readiness."""

    def __init__(self, session: Session, keys: PseudonymKeys) -> None:
        super().__init__(session)
        self._keys = keys

    def ingest_org(self, source: Source, *, source_name: str | None = None) -> IngestResult:
        """Load the org chart, ``unit,parent`` (an empty parent: a root): a path, bytes or a
        binary stream. It replaces the stored chart whole; a unit that holds adoption data
        must stay in it."""
        from valuegap.store.org_units import ORG_COLUMNS, read_org, replace_org

        def load(staged: Staged, ingest_id: int) -> tuple[int, bool]:
            return replace_org(self._db, read_org(self._db, staged.file), ingest_id)

        return self._ingest("org", source, source_name, ORG_COLUMNS, ("unit", "parent"), load)

    def ingest_adoption(self, source: Source, *, source_name: str | None = None) -> IngestResult:
        """Load adoption records ``person,unit,subject,record,day,uses`` (record: access,
        awareness, training or activity; ``uses`` for activity) and process volume (record
        ``process``, no person, ``uses`` handled with AI of ``process_volume``): a path, bytes
        or a binary stream. Then apply retention."""
        from valuegap.model.pseudonyms import PersonData
        from valuegap.store.adoption import ADOPTION_COLUMNS, load_adoption

        required = ("unit", "subject", "record", "day")  # a file of process volume names no one

        def load(staged: Staged, ingest_id: int) -> tuple[int, bool]:
            key = self._keys.ingest_key(staged.file)  # checked the first time a person is met
            changed, met_people = load_adoption(self._db, staged, PersonData(key), ingest_id)
            if met_people:
                self._keys.remember_key(key)
            return changed, changed > 0

        return self._ingest("adoption", source, source_name, ADOPTION_COLUMNS, required, load)

    def ingest_survey(self, source: Source, *, source_name: str | None = None) -> IngestResult:
        """Load survey answers ``unit,survey,period,answer`` (survey: executive_confidence or
        manager_readiness; answer 1-5; period: the survey's date): a path, bytes or a binary
        stream. Any other column (a respondent) is dropped as it is read. Stored per unit,
        survey and period as respondents and the mean answer scaled to 0-1; a survey's period
        given again replaces what was stored for it."""
        from valuegap.store.surveys import SURVEY_COLUMNS, read_survey, replace_surveys

        def load(staged: Staged, ingest_id: int) -> tuple[int, bool]:
            found = read_survey(self._db, staged.file)
            return replace_surveys(self._db, found, ingest_id)

        return self._ingest("survey", source, source_name, SURVEY_COLUMNS, SURVEY_COLUMNS, load)

    @writes
    def retain(self) -> Retention:
        """Reduce the adoption records older than ``adoption_retention_months`` (whole ISO
        weeks) to weekly aggregates per unit, subject and record (people, uses), and delete
        them."""
        self._require("adoption.write")
        with self._db.transaction():
            return self._retain()

    def _retain(self) -> Retention:
        from valuegap.store.adoption import reduce_before

        first_kept = retention_start(self._now().date(), self.settings.adoption_retention_months)
        deleted, weeks = reduce_before(self._db, first_kept)
        done = Retention(first_kept, deleted, weeks)
        if deleted:
            after = {
                "first_kept": first_kept.isoformat(),
                "records_deleted": deleted,
                "weeks_added": weeks,
            }
            self._record("adoption.retain", "adoption", "retention", None, after)
        return done

    @writes
    def _ingest(
        self,
        kind: str,
        source: Source,
        source_name: str | None,
        columns: tuple[str, ...],
        required: tuple[str, ...],
        load: Load,
    ) -> IngestResult:
        from valuegap.store.adoption import only
        from valuegap.store.staging import drop_stage, stage_file

        self._require("adoption.write")
        with opened(source, source_name) as given:
            project = only(given.name, columns, required)
            staged = stage_file(self._db, given, project=project)
            try:
                with self._db.transaction():
                    result = self._load(kind, given, staged, load)
                    if kind == "adoption":
                        self._retain()
            finally:
                drop_stage(self._db)
        return result

    def _load(self, kind: str, given: Input, staged: Staged, load: Load) -> IngestResult:
        ingests = CostStore(self._db)
        ingest_id = ingests.next_ingest_id()
        read = staged.rows or 0
        added, changed = load(staged, ingest_id)
        if changed:
            ingests.record_ingest(ingest_id, kind, given.name, read, added, self._now(), self.actor)
            after = {
                "file": given.base_name,
                "sha256": given.sha256(),
                "rows_read": read,
                "rows_added": added,
            }
            self._record(f"ingest.{kind}", "ingest", str(ingest_id), None, after)
        return IngestResult(kind, given.name, read, added)


def retention_start(today: date, months: int) -> date:
    """The first day whose adoption records are kept: the Monday of the ISO week that holds
    the day ``months`` months before ``today`` (weeks are reduced whole)."""
    limit = add_months(today, -months)
    return limit - timedelta(days=limit.weekday())
