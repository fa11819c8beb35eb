"""The pseudonyms the ledger holds (usage events' users and person tags, adoption records'
people), and re-keying them when the pseudonymisation key is rotated."""

from __future__ import annotations

from collections.abc import Callable, Collection

from valuegap.store.database import Database
from valuegap.store.usage import person_key

_PERSON_TAG_VALUES = """SELECT DISTINCT e.value AS pseudonym
    FROM (SELECT unnest(map_entries(tags)) AS e FROM usage_events WHERE tags IS NOT NULL)
    WHERE {person}"""


def holds_pseudonyms(db: Database, person_attributes: Collection[str] = ()) -> bool:
    person = person_key("e.key", person_attributes)
    row = db.one(
        f"""SELECT EXISTS (SELECT 1 FROM usage_events WHERE user_pseudonym IS NOT NULL)
            OR EXISTS (SELECT 1 FROM adoption_records)
            OR EXISTS ({_PERSON_TAG_VALUES.format(person=person)})"""
    )
    return bool(row and row[0])


def rekey_pseudonyms(
    db: Database, rekey: Callable[[str], str], person_attributes: Collection[str] = ()
) -> int:
    """Replace every stored pseudonym ``p`` by ``rekey(p)`` (in the caller's transaction);
    return how many distinct pseudonyms there were."""
    person = person_key("e.key", person_attributes)
    rows = db.all(
        f"""SELECT DISTINCT user_pseudonym AS pseudonym FROM usage_events
            WHERE user_pseudonym IS NOT NULL
            UNION SELECT DISTINCT pseudonym FROM adoption_records
            UNION {_PERSON_TAG_VALUES.format(person=person)}"""
    )
    old = sorted(r["pseudonym"] for r in rows if r["pseudonym"] is not None)
    if not old:
        return 0
    import pyarrow as pa

    db.execute('CREATE OR REPLACE TEMP TABLE _valuegap_rekeyed ("old" VARCHAR, "new" VARCHAR)')
    db.insert_arrow("_valuegap_rekeyed", pa.table({"old": old, "new": [rekey(p) for p in old]}))
    db.execute(
        """UPDATE usage_events SET user_pseudonym = r."new"
        FROM _valuegap_rekeyed r WHERE usage_events.user_pseudonym = r."old" """
    )
    db.execute(
        """UPDATE adoption_records SET pseudonym = r."new"
        FROM _valuegap_rekeyed r WHERE adoption_records.pseudonym = r."old" """
    )
    db.execute(
        f"""UPDATE usage_events SET tags = map_from_entries(list_transform(map_entries(tags),
            e -> {{'key': e.key, 'value': CASE WHEN {person}
                THEN coalesce(m.rekeyed[e.value], e.value) ELSE e.value END}}))
        FROM (SELECT map(list("old"), list("new")) AS rekeyed FROM _valuegap_rekeyed) m
        WHERE len(list_filter(map_entries(tags), e -> {person})) > 0"""
    )
    db.execute("DROP TABLE _valuegap_rekeyed")
    return len(old)
