from __future__ import annotations

import csv
import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from valuegap import Ledger
from valuegap.errors import IngestError

from .focus_files import write_aws_export, write_focus_13

DATA = Path(__file__).parent.parent / "data"


def by(ledger: Ledger, key: str) -> dict[str, Decimal]:
    return {row.dimension(key): row.cost for row in ledger.costs.cost_report([key])}


def hand(path: Path, group: str) -> dict[str, Decimal]:
    """The same totals as a hand-written DuckDB query over the file, to the cent."""
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {group} AS k, sum(CAST(EffectiveCost AS DECIMAL(38, 10))) FROM read_csv(?, "
        "all_varchar = true, nullstr = ['NULL', '']) GROUP BY 1",
        [str(path)],
    ).fetchall()
    return {("(none)" if k is None else k): v.quantize(Decimal("0.01")) for k, v in rows}


def cents(totals: dict[str, Decimal]) -> dict[str, Decimal]:
    return {("(none)" if k is None else k): v.quantize(Decimal("0.01")) for k, v in totals.items()}


def test_export_totals_equal_a_hand_written_query(ledger: Ledger, tmp_path: Path) -> None:
    export = tmp_path / "aws-focus-1.2.csv"
    write_aws_export(export, rows=2_000)
    [result] = ledger.costs.ingest_focus([export])
    assert (result.rows_read, result.rows_added) == (2_000, 2_000)
    assert cents(by(ledger, "service_category")) == hand(export, "ServiceCategory")
    assert cents(by(ledger, "tag:Owner")) == hand(export, "json_extract_string(Tags, '$.Owner')")


def test_hand_written_focus_12_file_with_every_mandatory_column(ledger: Ledger) -> None:
    path = DATA / "focus-1.2-minimal.csv"
    ledger.costs.ingest_focus([path])
    # By hand: 1100.25 + 300.00 - 50.00 (credit) in AI and ML; 45.10 storage; 12.34 tax.
    assert by(ledger, "service_category") == {
        "AI and Machine Learning": Decimal("1350.25"), "Other": Decimal("12.34"),
        "Storage": Decimal("45.1"),
    }  # fmt: skip
    assert by(ledger, "tag:initiative") == {"loc-qa": Decimal("1050.25"), None: Decimal("357.44")}


def test_gzip_and_parquet_read_the_same(ledger: Ledger, tmp_path: Path) -> None:
    export = tmp_path / "e.csv"
    write_aws_export(export, rows=300)
    packed = tmp_path / "e.csv.gz"
    with export.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    parquet = tmp_path / "e.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{export}', all_varchar = true)) TO '{parquet}'")
    [csv_result] = ledger.costs.ingest_focus([packed])
    assert csv_result.rows_added == 300
    [again] = ledger.costs.ingest_focus([parquet])
    assert (again.rows_read, again.rows_added) == (300, 0)  # the same lines: not counted twice


def test_the_same_lines_in_any_format_and_spelling_are_the_same_lines(
    ledger: Ledger, tmp_path: Path
) -> None:
    export = tmp_path / "e.csv"
    write_aws_export(export, rows=20_000)
    [first] = ledger.costs.ingest_focus([export])
    assert first.rows_added == 20_000
    total = by(ledger, "provider")
    con = duckdb.connect()
    # Typed Parquet: timestamps as instants, costs as doubles, tags as JSON: how a provider's
    # own Parquet export stores them.
    typed = tmp_path / "typed.parquet"
    con.execute(f"COPY (SELECT * REPLACE (CAST(ChargePeriodStart AS TIMESTAMPTZ) AS "
                f"ChargePeriodStart, CAST(BilledCost AS DOUBLE) AS BilledCost) FROM "
                f"read_csv('{export}', nullstr = ['NULL', ''])) TO '{typed}'")  # fmt: skip
    packed = tmp_path / "e.csv.gz"
    with export.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    # The same export spelled otherwise: instants with an offset, costs with a trailing zero,
    # tags in another order.
    respelled = tmp_path / "respelled.csv"
    with export.open(newline="") as source, respelled.open("w", newline="") as target:
        reader, writer = csv.reader(source), csv.writer(target)
        header = next(reader)
        writer.writerow(header)
        at = {name: header.index(name) for name in header}
        for row in reader:
            for name in ("BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd"):
                row[at[name]] = row[at[name]].rstrip("Z") + "+00:00"
            for name in ("BilledCost", "EffectiveCost"):
                row[at[name]] = row[at[name]] + "0" if "." in row[at[name]] else row[at[name]]
            tags = row[at["Tags"]]
            if tags not in ("", "NULL"):
                row[at["Tags"]] = json.dumps(dict(reversed(json.loads(tags).items())))
            writer.writerow(row)
    for copy in (typed, packed, respelled):
        [again] = ledger.costs.ingest_focus([copy])
        assert (again.rows_read, again.rows_added) == (20_000, 0), copy.name
    assert by(ledger, "provider") == total


def test_lines_of_equal_values_in_one_file_are_each_a_charge(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "twice.csv"
    header = ("BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,"
              "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,ProviderName,"
              "ServiceName,ServiceCategory")  # fmt: skip
    line = "acct,USD,2025-05-01{z},2025-05-01{z},2025-05-02{z},Usage,5.0,5.0,AWS,S3,Storage"
    # Two charges of equal values, spelled two ways (an exporter's quirk), and a third.
    path.write_text("\n".join([header, line.format(z="T00:00:00Z"), line.format(z=" 00:00:00"),
                               line.format(z="T00:00:00Z")]) + "\n")  # fmt: skip
    assert ledger.costs.ingest_focus([path])[0].rows_added == 3
    assert ledger.costs.ingest_focus([path])[0].rows_added == 0
    assert by(ledger, "provider") == {"AWS": Decimal("15")}


def test_focus_13_provider_column(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "focus-1.3.csv"
    write_focus_13(path)
    ledger.costs.ingest_focus([path])
    assert by(ledger, "provider") == {"OpenAI": Decimal("114.5")}


def test_ingesting_twice_or_overlapping_changes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    first, overlap = tmp_path / "a.csv", tmp_path / "b.csv"
    write_aws_export(first, rows=400)
    write_aws_export(overlap, rows=600)  # the first 400 lines again, then 200 new ones
    ledger.costs.ingest_focus([first])
    before = by(ledger, "service")
    entries = len(ledger.governance.audit.audit_log())
    [again] = ledger.costs.ingest_focus([first])
    assert (again.rows_added, by(ledger, "service")) == (0, before)
    assert len(ledger.governance.audit.audit_log()) == entries
    [more] = ledger.costs.ingest_focus([overlap])
    assert more.rows_added == 200


def test_one_bad_value_refuses_the_file_and_names_it(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    write_aws_export(path, rows=100)
    lines = path.read_text().splitlines()
    fields = lines[50].split(",")
    fields[19] = "12,5O"  # row 50's EffectiveCost, with a letter O for a zero
    lines[50] = ",".join(fields[:19]) + ',"12,5O",' + ",".join(fields[20:])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_focus([path])
    [problem] = refused.value.problems
    assert problem.where == f"{path}, row 50, column 'EffectiveCost'"
    assert problem.value == "12,5O"
    assert ledger.costs.cost_report(["provider"]) == []


@pytest.mark.parametrize(
    ("column", "bad", "message"),
    [
        ("BillingAccountId", "", "is required; the value is empty"),
        ("ChargePeriodStart", "2025-13-01", "is not a timestamp"),
        ("BillingPeriodStart", "", "is required; the value is empty"),
        ("BillingCurrency", "dollars", "is not an ISO 4217 currency code"),
        ("ChargeCategory", "Refund", "must be one of Usage, Purchase"),
        ("ListCost", "n/a", "is not a decimal number"),
        ("ProviderName", "", "is required; the value is empty"),
        ("Tags", "not json", "is not a JSON object"),
    ],
)
def test_each_check_refuses_the_file(
    ledger: Ledger, tmp_path: Path, column: str, bad: str, message: str
) -> None:
    with (DATA / "focus-1.2-minimal.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[3][rows[0].index(column)] = bad
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_focus([path])
    [problem] = refused.value.problems
    assert problem.where == f"{path}, row 3, column '{column}'"
    assert problem.message.startswith(message)
    assert problem.value == (bad or None)
    assert ledger.costs.cost_report(["provider"]) == []


def test_a_missing_mandatory_column_is_named(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "no-currency.csv"
    path.write_text("BilledCost,EffectiveCost\n1,1\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_focus([path])
    named = {p.where.split("column ")[1] for p in refused.value.problems}
    assert "'BillingCurrency'" in named and "'ServiceProviderName'" in named


def test_all_files_or_none(ledger: Ledger, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    write_aws_export(good, rows=10)
    bad.write_text("nonsense\n1\n")
    with pytest.raises(IngestError) as refused:
        ledger.costs.ingest_focus([good, bad])
    assert refused.value.summary == (
        f"{bad} was refused, so none of the 2 files was ingested; nothing from them was stored."
    )
    assert ledger.costs.cost_report(["provider"]) == []


def test_the_cost_column_is_a_setting(ledger: Ledger) -> None:
    from valuegap.settings import Settings

    ledger.costs.ingest_focus([DATA / "focus-1.2-minimal.csv"])
    path = ledger.path
    ledger.close()
    with Ledger.open(
        path, actor="alice", settings=Settings(db=path, cost_column="BilledCost")
    ) as billed:
        # By hand: BilledCost 1200.50 + 300.00 - 50.00 in AI and ML (EffectiveCost gives 1350.25).
        assert by(billed, "service_category")["AI and Machine Learning"] == Decimal("1450.5")


def test_identical_lines_are_kept_apart_by_occurrence(ledger: Ledger, tmp_path: Path) -> None:
    single = tmp_path / "one.csv"
    write_aws_export(single, rows=5)
    header, *lines = single.read_text().splitlines()
    three, four = tmp_path / "three.csv", tmp_path / "four.csv"
    # the same line three times (a provider may bill the same hour twice), then another
    three.write_text("\n".join([header, lines[0], lines[0], lines[0], lines[1]]) + "\n")
    four.write_text("\n".join([header, lines[0], lines[0], lines[0], lines[0], lines[1]]) + "\n")
    [first] = ledger.costs.ingest_focus([three])
    assert (first.rows_read, first.rows_added) == (4, 4)
    [again] = ledger.costs.ingest_focus([three])
    assert again.rows_added == 0
    [more] = ledger.costs.ingest_focus([four])  # one more copy of the repeated line
    assert more.rows_added == 1
    [rest] = ledger.costs.ingest_focus([single])  # no line repeats: keys without numbering
    assert rest.rows_added == 3
    ledger.close()
    con = duckdb.connect(str(ledger.path))
    rows = con.execute("SELECT source_row FROM focus_lines WHERE ingest_id = 1 ORDER BY 1")
    assert [r[0] for r in rows.fetchall()] == [1, 2, 3, 4]
    con.close()
