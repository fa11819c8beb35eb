"""The adoption part of the ledger (``ledger.adoption``): loading the org chart, adoption
records and surveys, retention (docs/privacy.md), and the adoption and conviction reports per
disclosed group (``reports``, docs/adoption.md).

Every ingest is whole or nothing (every bad row named by row, column and value, and nothing
stored), and the same file twice changes nothing. People are pseudonymised with the ledger's
key (``ledger.governance.keys``) before anything is written: a missing key, or another key
than the ledger's, stops the ingest. Each adoption ingest then applies retention: records
older than ``adoption_retention_months`` are reduced to weekly aggregates and deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from valuegap.adoption.reports import AdoptionReport, ConvictionReport
from valuegap.adoption.unit_outcome import UnitOutcome
from valuegap.errors import NotFound
from valuegap.model.ingest import IngestResult
from valuegap.months import add_months, check_days
from valuegap.records import record
from valuegap.session import Part, Session
from valuegap.sources import Input, Source, opened
from valuegap.store.costs import CostStore
from valuegap.store.writer import writes

if TYPE_CHECKING:
    from valuegap.adoption.anonymity import Partition
    from valuegap.adoption.key_api import PseudonymKeys
    from valuegap.adoption.ladder import LadderCounts, LadderCriteria
    from valuegap.store.staging import Staged

# (source, ingest id) -> (rows new or changed, whether anything changed)
Load = Callable[["Staged", int], tuple[int, bool]]


@record
class Retention:
    """What retention did: the records of the days before ``first_kept`` were reduced to
    ``weeks_added`` weekly aggregates and ``records_deleted`` were deleted."""

    first_kept: date
    records_deleted: int
    weeks_added: int


class Adoption(Part):
    """Who has access to AI, knows of it, is trained and uses it, counted per org unit; the
    org chart; surveys of executive confidence and manager readiness; the ladder and the
    conviction distance of each group of at least ``min_group_size`` people."""

    def __init__(
        self,
        session: Session,
        keys: Callable[[], PseudonymKeys],
        outcomes: Callable[[date], Sequence[UnitOutcome]],
    ) -> None:
        super().__init__(session)
        self._keys = keys  # the key part, built when an ingest of person data first needs it
        self._outcomes = outcomes  # the outcomes part's unit_outcomes, asked only by reports

    def adoption_report(
        self, unit: str | None = None, initiative: str | None = None, on: date | None = None
    ) -> AdoptionReport:
        """The adoption ladder of each disclosed group on ``on`` (default: the day after the
        latest adoption data): of one ``initiative``'s (or tool's) people, coarsening the
        groups (a contributor's initiatives, or any tool); of the groups in ``unit``'s part
        of the org chart (and the group that holds ``unit`` where it is too small to show on
        its own)."""
        from valuegap.adoption.reports import ladder_groups, not_shown
        from valuegap.store.adoption_counts import subjects

        self._require("read")
        check_days("The report date is out of range.", on=on)
        on = on or self._report_day()
        whole, tree = self._partition(on)
        if unit is not None and unit not in tree:
            raise NotFound(f"There is no org unit {unit!r}; the org file names the units.")
        owners = self._initiative_units()
        known = set(subjects(self._db)) | set(owners)
        if initiative is not None and not self._sees(initiative, owners):
            known.discard(initiative)  # another unit's initiative, to a contributor
        if initiative is not None and initiative not in known:
            raise NotFound(
                f"No adoption data or initiative {initiative!r}; adoption records name "
                "initiatives and tools as their subject."
            )
        counts, people = self._ladder_counts(on, initiative, self._outcomes(on), owners)
        shown = whole if initiative is None else whole.coarsen(people, whole.k)
        note = not_shown(shown)
        groups = list(shown.groups)
        if unit is not None:
            below = _subtree(tree, unit)
            groups = [group for group in groups if group.unit in below]
            holder = shown.group_of(unit)
            if holder is None:
                note = f"{unit} is not shown: its part of the org chart has too few people"
            elif holder.unit != unit:
                note = f"{unit} is not shown on its own: its people are counted in {holder.unit}"
                groups = [holder, *[g for g in groups if g != holder]]
        return AdoptionReport(
            on=on,
            min_group_size=whole.k,
            initiative=initiative,
            unit=unit,
            note=note,
            groups=ladder_groups(shown, counts, self._criteria(), groups),
        )

    def conviction_report(self, on: date | None = None) -> ConvictionReport:
        """The conviction distance of each disclosed group on ``on`` (default: the day after
        the latest adoption data)."""
        from valuegap.adoption.conviction import Survey
        from valuegap.adoption.reports import UnitFacts, conviction_groups, not_shown
        from valuegap.store.adoption_counts import survey_means

        self._require("read")
        check_days("The report date is out of range.", on=on)
        on = on or self._report_day()
        whole, tree = self._partition(on)
        outcomes = {found.unit: found for found in self._outcomes(on)}
        counts, _ = self._ladder_counts(on, None, outcomes.values(), self._initiative_units())
        surveys: dict[str, dict[str, Survey]] = {unit: {} for unit in tree}
        for mean in survey_means(self._db, on):
            surveys.setdefault(mean.unit, {})[mean.survey] = Survey(mean.respondents, mean.score)
        facts = {unit: UnitFacts(counts[unit], surveys.get(unit, {})) for unit in counts}
        return ConvictionReport(
            on=on,
            min_group_size=whole.k,
            note=not_shown(whole),
            groups=conviction_groups(whole, facts, outcomes),
        )

    def _report_day(self) -> date:
        """The day after the latest adoption data (so that its week counts), never after
        today; today without any."""
        from valuegap.store.adoption_counts import latest_day

        today = self._now().date()
        latest = latest_day(self._db)
        return today if latest is None else min(latest + timedelta(days=1), today)

    def _partition(self, on: date) -> tuple[Partition, dict[str, str | None]]:
        """The one partition of everyone with adoption records on ``on``, and the org tree."""
        from valuegap.adoption.anonymity import partition
        from valuegap.store.adoption_counts import org_units, people_per_unit

        tree = {found.unit: found.parent for found in org_units(self._db)}
        people = {found.unit: found.people for found in people_per_unit(self._db, on)}
        whole = partition(tree, people, self.settings.min_group_size)
        return whole, tree | {unit: None for unit in people if unit not in tree}

    def _criteria(self) -> LadderCriteria:
        from valuegap.adoption.ladder import LadderCriteria

        s = self.settings
        return LadderCriteria(
            awareness=Decimal(str(s.ladder_awareness)),
            training=Decimal(str(s.ladder_training)),
            experimentation=Decimal(str(s.ladder_experimentation)),
            regular_use=Decimal(str(s.ladder_regular_use)),
            workflow_share=Decimal(str(s.ladder_workflow_share)),
            regular_weeks=s.ladder_regular_weeks,
            window_weeks=s.ladder_window_weeks,
        )

    def _sees(self, subject: str, owners: dict[str, str]) -> bool:
        """Whether the actor may see the adoption of ``subject``: a tool, or an initiative
        (``owners``: each initiative's unit) of their business units if a contributor."""
        units = self._session.units_in_scope()
        return units is None or subject not in owners or owners[subject] in units

    def _initiative_units(self) -> dict[str, str]:
        """Each initiative's business unit."""
        from valuegap.store.portfolio import PortfolioStore

        return {found.id: found.business_unit for found in PortfolioStore(self._db).initiatives()}

    def _ladder_counts(
        self,
        on: date,
        subject: str | None,
        outcomes: Iterable[UnitOutcome],
        owners: dict[str, str],
    ) -> tuple[dict[str, LadderCounts], dict[str, int]]:
        """Each org unit's ladder counts (of ``subject``, else of all) and its people with
        records (of ``subject``): counts, never a person. ``sops_updated`` and a validated
        outcome: of ``subject`` where it is an initiative, else of any of the unit's (``owners``:
        each initiative's unit)."""
        from valuegap.adoption.ladder import LadderCounts
        from valuegap.store.adoption_counts import org_units, process_volumes, rung_counts
        from valuegap.store.portfolio import PortfolioStore

        s = self.settings
        rungs = {
            found.unit: found
            for found in rung_counts(
                self._db,
                on,
                subject,
                window_weeks=s.ladder_window_weeks,
                regular_weeks=s.ladder_regular_weeks,
            )
        }
        volumes = {
            found.unit: found
            for found in process_volumes(self._db, on, subject, window_weeks=s.ladder_window_weeks)
        }
        attested = set(owners) & PortfolioStore(self._db).attested("sops_updated")
        validated = {i for found in outcomes for i in found.validated}
        units = {found.unit for found in org_units(self._db)} | set(rungs) | set(volumes)
        counts: dict[str, LadderCounts] = {}
        for unit in units:
            mine = {subject} if subject is not None else {i for i, u in owners.items() if u == unit}
            rung, volume = rungs.get(unit), volumes.get(unit)
            counts[unit] = LadderCounts(
                access=rung.access if rung else 0,
                awareness=rung.awareness if rung else 0,
                training=rung.training if rung else 0,
                experimentation=rung.experimentation if rung else 0,
                regular_use=rung.regular_use if rung else 0,
                sops_updated=bool(mine & attested),
                ai_volume=volume.ai_handled if volume else 0,
                process_volume=volume.total if volume else 0,
                validated_outcome=bool(mine & validated),
            )
        return counts, {unit: found.people for unit, found in rungs.items()}

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
            key = self._keys().ingest_key(staged.file)  # checked the first time a person is met
            changed, met_people = load_adoption(self._db, staged, PersonData(key), ingest_id)
            if met_people:
                self._keys().remember_key(key)
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


def _subtree(tree: dict[str, str | None], unit: str) -> set[str]:
    """``unit`` and every unit below it."""
    below = {unit}
    grew = True
    while grew:
        more = {child for child, parent in tree.items() if parent in below} - below
        below |= more
        grew = bool(more)
    return below


def retention_start(today: date, months: int) -> date:
    """The first day whose adoption records are kept: the Monday of the ISO week that holds
    the day ``months`` months before ``today`` (weeks are reduced whole)."""
    limit = add_months(today, -months)
    return limit - timedelta(days=limit.weekday())
