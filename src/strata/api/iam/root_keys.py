"""The account root's access keys through IAM (CreateAccessKey, ListAccessKeys,
DeleteAccessKey called by the root without a UserName): the same key file ``strata keys``
manages, so both are fronts for one set of root keys. The key the server was started with
(the primary) cannot be deleted here, as ``strata keys delete`` refuses it too."""

from __future__ import annotations

import asyncio
from typing import Final, Protocol

from strata.api.iam.context import Call, Result, page
from strata.api.query import Value, timestamp
from strata.credentials import KeyPair, generate_pair
from strata.service.iam.errors import DeleteConflict, LimitExceeded, NoSuchEntity

ROOT_KEYS_MAX: Final = 2  # what IAM allows the root user; `strata keys create` has no limit


class RootKeys(Protocol):
    def pairs(self) -> list[KeyPair]: ...

    def add(self, pair: KeyPair) -> None: ...

    def remove(self, access_key: str) -> bool: ...


def _value(pair: KeyPair, with_secret: bool) -> dict[str, Value]:
    value: dict[str, Value] = {"AccessKeyId": pair.access_key, "Status": "Active"}
    if with_secret:
        value["SecretAccessKey"] = pair.secret_key
    value["CreateDate"] = timestamp(pair.created_s)
    return value


async def create(call: Call, keys: RootKeys) -> Result:
    call.authorize(call.principal.arn)
    if len(keys.pairs()) >= ROOT_KEYS_MAX:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {ROOT_KEYS_MAX}")
    pair = generate_pair()
    await asyncio.to_thread(keys.add, pair)  # the key file is written and fsynced
    return {"AccessKey": _value(pair, with_secret=True)}


async def listed(call: Call, keys: RootKeys) -> Result:
    call.authorize(call.principal.arn)
    pairs = keys.pairs()
    return page(
        pairs,
        call.params,
        "AccessKeyMetadata",
        lambda p: _value(p, with_secret=False),
        lambda p: p.access_key,
    )


async def delete(call: Call, keys: RootKeys) -> Result:
    call.authorize(call.principal.arn)
    access_key = call.params["AccessKeyId"]
    found = next((p for p in keys.pairs() if p.access_key == access_key), None)
    if found is None:
        raise NoSuchEntity(f"The Access Key with id {access_key} cannot be found.")
    if found.root:
        raise DeleteConflict(
            "The root access key the server was started with cannot be deleted "
            "(set STRATA_ROOT_* to replace it)."
        )
    await asyncio.to_thread(keys.remove, access_key)
    return None
