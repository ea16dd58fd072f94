"""The one item write path: only ``changes.py`` writes item records, and they are stamped."""

from __future__ import annotations

import re
from pathlib import Path

from strata.service.tables import codec
from strata.service.tables.changes import Changes
from strata.service.tables.tables import TableService
from strata.storage import spaces
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

PACKAGE = Path(__file__).resolve().parents[4] / "src" / "strata"
# A put or delete naming the ITEMS space, however the call is spelled.
ITEMS_WRITE = re.compile(r"\.(put|delete)\(\s*spaces\.ITEMS\b")
# Dropping a whole table is not an item change: one range tombstone over its keys.
DROP_RANGE = re.compile(r"\(spaces\.ITEMS, owner, end\)")


def test_only_changes_module_writes_items() -> None:
    writers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if ITEMS_WRITE.search(path.read_text())
    )
    assert writers == ["service/tables/changes.py"]


def test_the_pattern_sees_a_write() -> None:
    assert ITEMS_WRITE.search("batch.put(spaces.ITEMS, key, value)")
    assert ITEMS_WRITE.search("batch.delete(\n    spaces.ITEMS, key)")
    assert not ITEMS_WRITE.search("store.get(spaces.ITEMS, key)")


def test_table_drop_is_the_only_range_delete_of_items() -> None:
    text = (PACKAGE / "service" / "tables" / "drops.py").read_text()
    assert len(DROP_RANGE.findall(text)) == 1
    others = [
        path.name
        for path in PACKAGE.rglob("*.py")
        if path.name != "drops.py" and "delete_range(spaces.ITEMS" in path.read_text()
    ]
    assert others == []


def test_staged_record_carries_a_growing_stamp(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    try:
        tables = TableService(store)
        tables.create_table(
            {
                "TableName": "things",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            }
        )
        table = tables.get("things")
        stamps = []
        for n in range(3):  # the clock stands still: the HLC counter orders them
            changes = Changes(tables)
            item = {"pk": {"S": "a"}, "n": {"N": str(n)}}
            staged = changes.stage(table, b"k", None, item)
            changes.apply()
            assert staged.record is not None
            stamps.append(codec.item_stamp(staged.record))
            stored = store.get(spaces.ITEMS, b"k")
            assert stored == staged.record
            assert codec.decode_item(stored) == item
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == 3
        assert table.record.table_id in tables.changed
    finally:
        store.close()


def test_unstamped_records_still_read() -> None:
    item = {"pk": {"S": "a"}}
    old = codec.encode_item(item)
    assert codec.decode_item(old) == item
    assert bytes(codec.raw_item(old)) == codec.encode_body(item)
    assert codec.item_stamp(old) == 0
    new = codec.stamped(7, codec.encode_body(item))
    assert codec.decode_item(new) == item
    assert bytes(codec.raw_item(new)) == codec.encode_body(item)
    assert codec.item_stamp(new) == 7
