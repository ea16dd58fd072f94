"""DynamoDB resource-based policies on tables and streams: PutResourcePolicy,
GetResourcePolicy, DeleteResourcePolicy, and the policy for the ``Decider``: a table's
governs the table and its indexes, a stream's (on its stream ARN) the Streams calls on
that stream, and neither the other's, as AWS attaches them.

One record per table or stream in META, keyed by the table's id, so a table created again
under the same name starts without the old table's policies::

    META  pack("dynamodb.resource-policy") + pack(table_id)                -> TablePolicy
    META  pack("dynamodb.resource-policy") + pack(table_id) + pack(label)  -> TablePolicy

A put of the document already attached keeps its revision (AWS: idempotent); a mismatching
``ExpectedRevisionId`` is ``PolicyNotFoundException``, as AWS documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec

from strata.service.iam.policy import MalformedPolicyDocument, PolicyKind, parse_policy
from strata.service.iam.policy.decider import ResourcePolicy
from strata.service.tables.catalogue import Catalogue
from strata.service.tables.errors import TablesError, ValidationError
from strata.service.tables.schema import Table
from strata.service.tables.service_errors import ResourceNotFound
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

_PREFIX: Final = keys.pack("dynamodb.resource-policy")
COMPILED_MAX: Final = 4096
_writes = 0  # bumped around every policy write: ``policy_for`` re-reads after a change


class PolicyNotFound(TablesError):
    """No policy on the resource, or not the revision the caller expected."""


class TablePolicy(msgspec.Struct, frozen=True):
    document: str
    revision_id: str


async def _commit(catalogue: Catalogue, batch: WriteBatch) -> None:
    global _writes
    _writes += 1  # before the apply and after: a reader caching in between re-reads
    try:
        await catalogue.store.commit(batch)
    finally:
        _writes += 1


def _key(table: Table, label: str = "") -> bytes:
    """The table's record, or with a stream label that stream's."""
    key = _PREFIX + keys.pack(table.record.table_id)
    return key + keys.pack(label) if label else key


def _labels(table: Table) -> set[str]:
    """The labels of the table's streams: the current one and those disabled since."""
    record = table.record
    found = {past.label for past in record.past_streams}
    if record.stream_enabled and record.stream_label:
        found.add(record.stream_label)
    return found


class TablePolicies:
    def __init__(self, catalogue: Callable[[], Catalogue]) -> None:
        self._catalogue = catalogue
        self._compiled: dict[str, ResourcePolicy] = {}
        self._by_table: dict[tuple[int, str], ResourcePolicy | None] = {}
        self._stamp: tuple[object, ...] = ()

    def _table(self, arn: Any) -> tuple[Table, str]:
        """The table the ARN names, and the stream's label for a stream's ARN ("" else)."""
        if not isinstance(arn, str) or ":table/" not in arn:
            raise ValidationError(f"Invalid ResourceArn provided as input {arn}")
        name, _, rest = arn.partition(":table/")[2].partition("/")
        kind, _, label = rest.partition("/")
        if rest and (kind != "stream" or not label or "/" in label):  # an index's ARN
            raise ValidationError(f"Invalid ResourceArn provided as input {arn}")
        try:
            table = self._catalogue().get(name)
        except ResourceNotFound:
            table = None
        if table is None or (label and label not in _labels(table)):
            raise ResourceNotFound(f"Requested resource not found: ResourcePolicy for {arn}")
        return table, label

    def _stored(self, table: Table, label: str = "") -> TablePolicy | None:
        raw = self._catalogue().store.get(spaces.META, _key(table, label))
        return None if raw is None else records.decode(raw, TablePolicy)

    def _check_revision(self, arn: str, found: TablePolicy | None, expected: Any) -> None:
        if found is None:
            raise PolicyNotFound(
                f"Resource-based policy not found for the provided ResourceArn: {arn}"
            )
        if expected is not None and expected != found.revision_id:
            raise PolicyNotFound(
                f"Resource-based policy not found for the provided ResourceArn: {arn} "
                f"with the expected revision id: {expected}"
            )

    async def put(self, req: dict[str, Any]) -> dict[str, Any]:
        arn = req.get("ResourceArn")
        table, label = self._table(arn)
        text = req.get("Policy")
        if not isinstance(text, str):
            raise ValidationError(
                "1 validation error detected: Value null at 'policy' failed to satisfy "
                "constraint: Member must not be null"
            )
        try:
            parse_policy(text, PolicyKind.RESOURCE)
        except MalformedPolicyDocument as exc:
            raise ValidationError(f"Invalid policy document: {exc.message}")
        catalogue = self._catalogue()
        # No await from here until the batch is applied: the revision check holds.
        found = self._stored(table, label)
        expected = req.get("ExpectedRevisionId")
        if expected is not None:
            self._check_revision(str(arn), found, expected)
        if found is not None and found.document == text:
            return {"RevisionId": found.revision_id}
        revision = str(int(catalogue.store.clock.now_s() * 1000))
        if found is not None and revision <= found.revision_id:
            revision = str(int(found.revision_id) + 1)
        batch = WriteBatch()
        batch.put(spaces.META, _key(table, label), records.encode(TablePolicy(text, revision)))
        await _commit(catalogue, batch)
        return {"RevisionId": revision}

    def get(self, req: dict[str, Any]) -> dict[str, Any]:
        arn = req.get("ResourceArn")
        found = self._stored(*self._table(arn))
        self._check_revision(str(arn), found, None)
        assert found is not None
        return {"Policy": found.document, "RevisionId": found.revision_id}

    async def delete(self, req: dict[str, Any]) -> dict[str, Any]:
        arn = req.get("ResourceArn")
        table, label = self._table(arn)
        # No await from here until the batch is applied.
        found = self._stored(table, label)
        self._check_revision(str(arn), found, req.get("ExpectedRevisionId"))
        assert found is not None
        batch = WriteBatch()
        batch.delete(spaces.META, _key(table, label))
        await _commit(self._catalogue(), batch)
        return {"RevisionId": found.revision_id}

    def policy_for(self, resource: str) -> ResourcePolicy | None:
        """The table's policy, for the table and its indexes (``.../table/T/index/I``); a
        stream's own, for its ARN (``.../table/T/stream/<label>``)."""
        if not resource.startswith("arn:aws:dynamodb:") or ":table/" not in resource:
            return None
        name, _, rest = resource.partition(":table/")[2].partition("/")
        label = rest[len("stream/") :] if rest.startswith("stream/") else ""
        catalogue = self._catalogue()
        table = catalogue.tables.get(name)
        if table is None:
            return None
        # one read per table until a policy is written or the store or catalogue is replaced
        stamp = (_writes, catalogue, getattr(catalogue.store, "generation", 0))
        if stamp != self._stamp:
            self._by_table.clear()
            self._stamp = stamp
        cached = (table.record.table_id, label)
        if cached not in self._by_table:
            self._by_table[cached] = self._read(table, label)
        return self._by_table[cached]

    def _read(self, table: Table, label: str) -> ResourcePolicy | None:
        found = self._stored(table, label)
        if found is None:
            return None
        compiled = self._compiled.get(found.document)
        if compiled is None:
            if len(self._compiled) >= COMPILED_MAX:
                self._compiled.clear()
            compiled = ResourcePolicy(parse_policy(found.document, PolicyKind.RESOURCE))
            self._compiled[found.document] = compiled
        return compiled
