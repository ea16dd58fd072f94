"""DynamoDB resource-based policies on tables: PutResourcePolicy, GetResourcePolicy,
DeleteResourcePolicy, and the table's policy for the ``Decider`` (it governs the table and
its indexes).

One record per table in META, keyed by the table's id, so a table created again under the
same name starts without the old table's policy::

    META  pack("dynamodb.resource-policy") + pack(table_id)  -> TablePolicy

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


def _key(table: Table) -> bytes:
    return _PREFIX + keys.pack(table.record.table_id)


class TablePolicies:
    def __init__(self, catalogue: Callable[[], Catalogue]) -> None:
        self._catalogue = catalogue
        self._compiled: dict[str, ResourcePolicy] = {}
        self._by_table: dict[int, ResourcePolicy | None] = {}
        self._stamp: tuple[object, ...] = ()

    def _table(self, arn: Any) -> Table:
        if not isinstance(arn, str) or ":table/" not in arn:
            raise ValidationError(f"Invalid ResourceArn provided as input {arn}")
        name, _, rest = arn.partition(":table/")[2].partition("/")
        if rest:  # a stream's or an index's ARN
            raise ValidationError(f"Invalid ResourceArn provided as input {arn}")
        try:
            return self._catalogue().get(name)
        except ResourceNotFound:
            raise ResourceNotFound(f"Requested resource not found: ResourcePolicy for {arn}")

    def _stored(self, table: Table) -> TablePolicy | None:
        raw = self._catalogue().store.get(spaces.META, _key(table))
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
        table = self._table(arn)
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
        found = self._stored(table)
        expected = req.get("ExpectedRevisionId")
        if expected is not None:
            self._check_revision(str(arn), found, expected)
        if found is not None and found.document == text:
            return {"RevisionId": found.revision_id}
        revision = str(int(catalogue.store.clock.now_s() * 1000))
        if found is not None and revision <= found.revision_id:
            revision = str(int(found.revision_id) + 1)
        batch = WriteBatch()
        batch.put(spaces.META, _key(table), records.encode(TablePolicy(text, revision)))
        await _commit(catalogue, batch)
        return {"RevisionId": revision}

    def get(self, req: dict[str, Any]) -> dict[str, Any]:
        arn = req.get("ResourceArn")
        found = self._stored(self._table(arn))
        self._check_revision(str(arn), found, None)
        assert found is not None
        return {"Policy": found.document, "RevisionId": found.revision_id}

    async def delete(self, req: dict[str, Any]) -> dict[str, Any]:
        arn = req.get("ResourceArn")
        table = self._table(arn)
        # No await from here until the batch is applied.
        found = self._stored(table)
        self._check_revision(str(arn), found, req.get("ExpectedRevisionId"))
        assert found is not None
        batch = WriteBatch()
        batch.delete(spaces.META, _key(table))
        await _commit(self._catalogue(), batch)
        return {"RevisionId": found.revision_id}

    def policy_for(self, resource: str) -> ResourcePolicy | None:
        """The table's policy, for the table and its indexes (``.../table/T/index/I``)."""
        if not resource.startswith("arn:aws:dynamodb:") or ":table/" not in resource:
            return None
        name = resource.partition(":table/")[2].split("/", 1)[0]
        catalogue = self._catalogue()
        table = catalogue.tables.get(name)
        if table is None:
            return None
        # one read per table until a policy is written or the store or catalogue is replaced
        stamp = (_writes, catalogue, getattr(catalogue.store, "generation", 0))
        if stamp != self._stamp:
            self._by_table.clear()
            self._stamp = stamp
        table_id = table.record.table_id
        if table_id not in self._by_table:
            self._by_table[table_id] = self._read(table)
        return self._by_table[table_id]

    def _read(self, table: Table) -> ResourcePolicy | None:
        found = self._stored(table)
        if found is None:
            return None
        compiled = self._compiled.get(found.document)
        if compiled is None:
            if len(self._compiled) >= COMPILED_MAX:
                self._compiled.clear()
            compiled = ResourcePolicy(parse_policy(found.document, PolicyKind.RESOURCE))
            self._compiled[found.document] = compiled
        return compiled
