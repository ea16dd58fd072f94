"""One function per KMS operation: a checked request (``checks.py``) in, a JSON document out.

Each resolves the key it names first (NotFound before anything else, as AWS), then
authorizes ``kms:<Operation>`` on the key's ARN through the one ``AccessControl`` step,
then asks the key service. Responses name keys by ARN where AWS does (Encrypt, Decrypt,
GenerateDataKey, ScheduleKeyDeletion, CancelKeyDeletion), by id where AWS does (metadata).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from strata.api.http import Request
from strata.errors import ProtocolError
from strata.service.iam.access import AccessControl
from strata.service.kms.errors import (
    InvalidKeyUsage,
    InvalidMarker,
    KeyNotFound,
    KmsValidation,
)
from strata.service.kms.keys import KEY_ID, KeyService
from strata.service.kms.records import PENDING_DELETION, KeyRecord

Document = dict[str, Any]
SYMMETRIC: Final = "SYMMETRIC_DEFAULT"
LIST_KEYS_DEFAULT: Final = 100
LIST_ALIASES_DEFAULT: Final = 50


@dataclass
class KmsContext:
    keys: KeyService
    access: AccessControl
    request: Request

    def authorize(self, operation: str, resource: str) -> None:
        self.request.resource = resource
        self.access.authorize(self.request.principal, f"kms:{operation}", resource)

    async def key(self, operation: str, key_text: str) -> KeyRecord:
        """The key a request names (id, ARN, alias), authorized for ``operation``."""
        record = await self.keys.resolve(key_text)
        self.authorize(operation, self.keys.key_arn(record.key_id))
        return record

    def arn(self, record: KeyRecord) -> str:
        return self.keys.key_arn(record.key_id)


def key_metadata(keys: KeyService, record: KeyRecord) -> Document:
    meta: Document = {
        "AWSAccountId": keys.account_id,
        "KeyId": record.key_id,
        "Arn": keys.key_arn(record.key_id),
        "CreationDate": record.created_s,
        "Enabled": record.state == "Enabled",
        "Description": record.description,
        "KeyUsage": record.key_usage,
        "KeyState": record.state,
        "Origin": "AWS_KMS",
        "KeyManager": record.manager,
        "CustomerMasterKeySpec": record.key_spec,
        "KeySpec": record.key_spec,
        "EncryptionAlgorithms": [SYMMETRIC],
        "MultiRegion": False,
    }
    if record.state == PENDING_DELETION:
        meta["DeletionDate"] = record.deletion_s
        meta["PendingDeletionWindowInDays"] = record.pending_window_days
    return meta


def default_policy(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        indent=4,
    )


def _tags(raw: Any) -> list[tuple[str, str]]:
    tags: list[tuple[str, str]] = []
    for position, tag in enumerate(raw or [], 1):
        if not isinstance(tag, dict) or not isinstance(tag.get("TagKey"), str):
            raise KmsValidation(
                f"1 validation error detected: Value null at 'tags.{position}.member.tagKey' "
                "failed to satisfy constraint: Member must not be null"
            )
        key, value = tag["TagKey"], tag.get("TagValue")
        if not isinstance(value, str):
            raise KmsValidation(
                f"1 validation error detected: Value null at 'tags.{position}.member.tagValue' "
                "failed to satisfy constraint: Member must not be null"
            )
        if len(key) > 128 or not key:
            raise KmsValidation(
                f"1 validation error detected: Value '{key}' at 'tags.{position}.member.tagKey' "
                "failed to satisfy constraint: Member must have length less than or equal to 128"
            )
        if len(value) > 256:
            raise KmsValidation(
                f"1 validation error detected: Value '{value}' at "
                f"'tags.{position}.member.tagValue' failed to satisfy constraint: "
                "Member must have length less than or equal to 256"
            )
        if key.lower().startswith("aws:"):
            raise ProtocolError("TagException", "Tags beginning with aws: are reserved")
        tags.append((key, value))
    return tags


def _algorithm(req: Document, name: str = "EncryptionAlgorithm") -> None:
    algorithm = req.get(name)
    if algorithm not in (None, SYMMETRIC):
        raise InvalidKeyUsage(f"Algorithm {algorithm} is incompatible with key spec {SYMMETRIC}.")


def _dry_run(req: Document) -> None:
    if req.get("DryRun"):
        raise ProtocolError(
            "DryRunOperationException",
            "The request would have succeeded, but the DryRun option is set.",
            412,
        )


def _page(
    items: list[Any], name_of: Callable[[Any], str], req: Document, default: int,
    valid: Callable[[str], bool],
) -> tuple[list[Any], str | None]:  # fmt: skip
    """(page, next marker or None): ``Limit`` items after the marker, the last name of the
    page before; a marker that cannot be such a name is InvalidMarkerException."""
    limit = req.get("Limit", default)
    marker = req.get("Marker")
    start = 0
    if marker is not None:
        if not valid(marker):
            raise InvalidMarker()
        start = next((i for i, item in enumerate(items) if name_of(item) > marker), len(items))
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, (name_of(page[-1]) if more and page else None)


def _is_key_id(text: str) -> bool:
    return KEY_ID.fullmatch(text) is not None


def _is_alias_name(text: str) -> bool:
    return text.startswith("alias/")


def _is_any(text: str) -> bool:
    return True


# Operations


async def create_key(ctx: KmsContext, req: Document) -> Document:
    ctx.authorize("CreateKey", "*")
    if req.get("Origin") not in (None, "AWS_KMS"):
        raise ProtocolError(
            "UnsupportedOperationException",
            f"Origin {req['Origin']} is not supported: Strata's key service makes AWS_KMS keys.",
        )
    if req.get("MultiRegion"):
        raise ProtocolError(
            "UnsupportedOperationException",
            "Strata's key service has one region: no multi-Region keys.",
        )
    key_spec = req.get("KeySpec") or req.get("CustomerMasterKeySpec") or SYMMETRIC
    key_usage = req.get("KeyUsage") or "ENCRYPT_DECRYPT"
    if key_spec != SYMMETRIC and req.get("KeyUsage") is None:
        raise KmsValidation(
            "You must specify a KeyUsage value for all KMS keys except for symmetric "
            "encryption keys."
        )
    policy = req.get("Policy") or default_policy(ctx.keys.account_id)
    record = await ctx.keys.create_key(
        req.get("Description", ""), key_usage, key_spec, policy, _tags(req.get("Tags"))
    )
    ctx.request.resource = ctx.arn(record)
    return {"KeyMetadata": key_metadata(ctx.keys, record)}


async def describe_key(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("DescribeKey", req["KeyId"])
    return {"KeyMetadata": key_metadata(ctx.keys, record)}


async def list_keys(ctx: KmsContext, req: Document) -> Document:
    ctx.authorize("ListKeys", "*")
    page, marker = _page(
        ctx.keys.keys_sorted(), lambda r: r.key_id, req, LIST_KEYS_DEFAULT, _is_key_id
    )
    out: Document = {
        "Keys": [{"KeyId": r.key_id, "KeyArn": ctx.arn(r)} for r in page],
        "Truncated": marker is not None,
    }
    if marker is not None:
        out["NextMarker"] = marker
    return out


async def update_key_description(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("UpdateKeyDescription", req["KeyId"])
    ctx.keys.changeable(record)
    await ctx.keys.update(record, description=req["Description"])
    return {}


async def enable_key(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("EnableKey", req["KeyId"])
    await ctx.keys.set_enabled(record, True)
    return {}


async def disable_key(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("DisableKey", req["KeyId"])
    await ctx.keys.set_enabled(record, False)
    return {}


async def schedule_key_deletion(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("ScheduleKeyDeletion", req["KeyId"])
    record = await ctx.keys.schedule_deletion(record, req.get("PendingWindowInDays", 30))
    return {
        "KeyId": ctx.arn(record),
        "DeletionDate": record.deletion_s,
        "KeyState": record.state,
        "PendingWindowInDays": record.pending_window_days,
    }


async def cancel_key_deletion(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("CancelKeyDeletion", req["KeyId"])
    record = await ctx.keys.cancel_deletion(record)
    return {"KeyId": ctx.arn(record)}


async def enable_key_rotation(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("EnableKeyRotation", req["KeyId"])
    await ctx.keys.set_rotation(record, True, req.get("RotationPeriodInDays"))
    return {}


async def disable_key_rotation(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("DisableKeyRotation", req["KeyId"])
    await ctx.keys.set_rotation(record, False, None)
    return {}


async def get_key_rotation_status(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("GetKeyRotationStatus", req["KeyId"])
    ctx.keys.changeable(record)
    out: Document = {"KeyRotationEnabled": record.rotation_enabled, "KeyId": ctx.arn(record)}
    if record.rotation_enabled:
        out["RotationPeriodInDays"] = record.rotation_period_days
        out["NextRotationDate"] = record.next_rotation_s
    if record.on_demand_rotations_s:
        out["OnDemandRotationStartDate"] = record.on_demand_rotations_s[-1]
    return out


async def rotate_key_on_demand(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("RotateKeyOnDemand", req["KeyId"])
    await ctx.keys.rotate_now(record)
    return {"KeyId": record.key_id}


async def list_key_rotations(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("ListKeyRotations", req["KeyId"])
    ctx.keys.changeable(record)
    on_demand = set(record.on_demand_rotations_s)
    rotations = [
        {
            "KeyId": ctx.arn(record),
            "RotationDate": when,
            "RotationType": "ON_DEMAND" if when in on_demand else "AUTOMATIC",
        }
        for when in record.rotations_s
    ]
    page, marker = _page(
        rotations, lambda r: f"{r['RotationDate']:020.6f}", req, LIST_ALIASES_DEFAULT, _is_any
    )
    out: Document = {"Rotations": page, "Truncated": marker is not None}
    if marker is not None:
        out["NextMarker"] = marker
    return out


async def get_key_policy(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("GetKeyPolicy", req["KeyId"])
    name = req.get("PolicyName", "default")
    if name != "default":
        raise KeyNotFound(f"No such policy exists: {name}")  # AWS: one policy per key
    return {"Policy": record.policy or default_policy(ctx.keys.account_id), "PolicyName": name}


async def put_key_policy(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("PutKeyPolicy", req["KeyId"])
    name = req.get("PolicyName", "default")
    if name != "default":
        raise KeyNotFound(f"No such policy exists: {name}")
    try:
        document = json.loads(req["Policy"])
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
        raise ProtocolError("MalformedPolicyDocumentException", "The new key policy is malformed.")
    ctx.keys.changeable(record)
    # Kept and shown as given; IAM policies alone decide access (docs/compatibility.md).
    await ctx.keys.update(record, policy=req["Policy"])
    return {}


async def list_key_policies(ctx: KmsContext, req: Document) -> Document:
    await ctx.key("ListKeyPolicies", req["KeyId"])
    return {"PolicyNames": ["default"], "Truncated": False}


async def tag_resource(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("TagResource", req["KeyId"])
    ctx.keys.changeable(record)
    tags = dict(record.tags)
    tags.update(_tags(req["Tags"]))
    await ctx.keys.update(record, tags=list(tags.items()))
    return {}


async def untag_resource(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("UntagResource", req["KeyId"])
    ctx.keys.changeable(record)
    dropped = {k for k in req["TagKeys"] if isinstance(k, str)}
    await ctx.keys.update(record, tags=[(k, v) for k, v in record.tags if k not in dropped])
    return {}


async def list_resource_tags(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("ListResourceTags", req["KeyId"])
    tags = sorted(record.tags)
    page, marker = _page(tags, lambda t: t[0], req, LIST_ALIASES_DEFAULT, _is_any)
    out: Document = {
        "Tags": [{"TagKey": k, "TagValue": v} for k, v in page],
        "Truncated": marker is not None,
    }
    if marker is not None:
        out["NextMarker"] = marker
    return out


# Aliases


def _alias_name(text: str) -> str:
    return text.split(":", 5)[-1] if text.startswith("arn:") else text


async def create_alias(ctx: KmsContext, req: Document) -> Document:
    name = req["AliasName"]
    ctx.authorize("CreateAlias", ctx.keys.alias_arn(name))
    target = ctx.keys.find(req["TargetKeyId"]) if not _is_alias(req["TargetKeyId"]) else None
    if target is not None:
        ctx.authorize("CreateAlias", ctx.arn(target))
    await ctx.keys.create_alias(name, req["TargetKeyId"])
    ctx.request.resource = ctx.keys.alias_arn(name)
    return {}


async def update_alias(ctx: KmsContext, req: Document) -> Document:
    name = req["AliasName"]
    ctx.authorize("UpdateAlias", ctx.keys.alias_arn(name))
    await ctx.keys.update_alias(name, req["TargetKeyId"])
    return {}


async def delete_alias(ctx: KmsContext, req: Document) -> Document:
    name = req["AliasName"]
    ctx.authorize("DeleteAlias", ctx.keys.alias_arn(name))
    await ctx.keys.delete_alias(name)
    return {}


async def list_aliases(ctx: KmsContext, req: Document) -> Document:
    key_id = None
    if req.get("KeyId") is not None:
        key_id = ctx.keys.find(req["KeyId"]).key_id
    ctx.authorize("ListAliases", "*")
    aliases = ctx.keys.aliases_sorted(key_id)
    page, marker = _page(aliases, lambda a: a.name, req, LIST_ALIASES_DEFAULT, _is_alias_name)
    out: Document = {
        "Aliases": [
            {
                "AliasName": a.name,
                "AliasArn": ctx.keys.alias_arn(a.name),
                "TargetKeyId": a.target_key_id,
                "CreationDate": a.created_s,
                "LastUpdatedDate": a.updated_s,
            }
            for a in page
        ],
        "Truncated": marker is not None,
    }
    if marker is not None:
        out["NextMarker"] = marker
    return out


def _is_alias(text: str) -> bool:
    return text.startswith("alias/") or ":alias/" in text


# Cryptography


async def encrypt(ctx: KmsContext, req: Document) -> Document:
    record = await ctx.key("Encrypt", req["KeyId"])
    _algorithm(req)
    ctx.keys.usable(record)
    _dry_run(req)
    blob = await ctx.keys.encrypt(record, req["Plaintext"], req.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": ctx.arn(record), "EncryptionAlgorithm": SYMMETRIC}


async def decrypt(ctx: KmsContext, req: Document) -> Document:
    _algorithm(req)
    if req.get("CiphertextBlob") is None:
        raise KmsValidation(
            "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy "
            "constraint: Member must not be null"
        )
    expected = await ctx.keys.resolve(req["KeyId"]) if req.get("KeyId") is not None else None
    blob = req["CiphertextBlob"]
    named = ctx.keys.key_named_by(blob)
    if named is not None:
        ctx.authorize("Decrypt", ctx.arn(named))
    _dry_run(req)
    plaintext, record = ctx.keys.decrypt(blob, req.get("EncryptionContext"), expected)
    return {"KeyId": ctx.arn(record), "Plaintext": plaintext, "EncryptionAlgorithm": SYMMETRIC}


def _data_key_bytes(req: Document) -> int:
    spec, count = req.get("KeySpec"), req.get("NumberOfBytes")
    if (spec is None) == (count is None):
        raise KmsValidation("Please specify either number of bytes or key spec.")
    if spec is not None:
        return 16 if spec == "AES_128" else 32
    assert isinstance(count, int)
    return count


async def _data_key(ctx: KmsContext, req: Document, operation: str) -> Document:
    record = await ctx.key(operation, req["KeyId"])
    size = _data_key_bytes(req)
    ctx.keys.usable(record)
    _dry_run(req)
    plaintext, blob = await ctx.keys.generate_data_key(record, req.get("EncryptionContext"), size)
    return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": ctx.arn(record)}


async def generate_data_key(ctx: KmsContext, req: Document) -> Document:
    return await _data_key(ctx, req, "GenerateDataKey")


async def generate_data_key_without_plaintext(ctx: KmsContext, req: Document) -> Document:
    answer = await _data_key(ctx, req, "GenerateDataKeyWithoutPlaintext")
    del answer["Plaintext"]
    return answer


async def re_encrypt(ctx: KmsContext, req: Document) -> Document:
    _algorithm(req, "SourceEncryptionAlgorithm")
    _algorithm(req, "DestinationEncryptionAlgorithm")
    if req.get("CiphertextBlob") is None:
        raise KmsValidation(
            "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy "
            "constraint: Member must not be null"
        )
    source = await ctx.keys.resolve(req["SourceKeyId"]) if req.get("SourceKeyId") else None
    destination = await ctx.key("ReEncryptTo", req["DestinationKeyId"])
    named = ctx.keys.key_named_by(req["CiphertextBlob"])
    if named is not None:
        ctx.authorize("ReEncryptFrom", ctx.arn(named))
    ctx.keys.usable(destination)
    _dry_run(req)
    plaintext, record = ctx.keys.decrypt(
        req["CiphertextBlob"], req.get("SourceEncryptionContext"), source
    )
    blob = await ctx.keys.encrypt(destination, plaintext, req.get("DestinationEncryptionContext"))
    ctx.request.resource = ctx.arn(destination)
    return {
        "CiphertextBlob": blob,
        "SourceKeyId": ctx.arn(record),
        "KeyId": ctx.arn(destination),
        "SourceEncryptionAlgorithm": SYMMETRIC,
        "DestinationEncryptionAlgorithm": SYMMETRIC,
    }


async def generate_random(ctx: KmsContext, req: Document) -> Document:
    ctx.authorize("GenerateRandom", "*")
    if req.get("CustomKeyStoreId") is not None:
        raise ProtocolError(
            "CustomKeyStoreNotFoundException", "Strata's key service has no custom key stores."
        )
    count = req.get("NumberOfBytes")
    if count is None:
        raise KmsValidation("NumberOfBytes is required.")
    return {"Plaintext": os.urandom(count)}


Operation = Callable[[KmsContext, Document], Awaitable[Document]]

OPERATIONS: Final[dict[str, Operation]] = {
    "CancelKeyDeletion": cancel_key_deletion,
    "CreateAlias": create_alias,
    "CreateKey": create_key,
    "Decrypt": decrypt,
    "DeleteAlias": delete_alias,
    "DescribeKey": describe_key,
    "DisableKey": disable_key,
    "DisableKeyRotation": disable_key_rotation,
    "EnableKey": enable_key,
    "EnableKeyRotation": enable_key_rotation,
    "Encrypt": encrypt,
    "GenerateDataKey": generate_data_key,
    "GenerateDataKeyWithoutPlaintext": generate_data_key_without_plaintext,
    "GenerateRandom": generate_random,
    "GetKeyPolicy": get_key_policy,
    "GetKeyRotationStatus": get_key_rotation_status,
    "ListAliases": list_aliases,
    "ListKeyPolicies": list_key_policies,
    "ListKeyRotations": list_key_rotations,
    "ListKeys": list_keys,
    "ListResourceTags": list_resource_tags,
    "PutKeyPolicy": put_key_policy,
    "ReEncrypt": re_encrypt,
    "RotateKeyOnDemand": rotate_key_on_demand,
    "ScheduleKeyDeletion": schedule_key_deletion,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "UpdateAlias": update_alias,
    "UpdateKeyDescription": update_key_description,
}
