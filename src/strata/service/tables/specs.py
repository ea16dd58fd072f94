"""The parts of CreateTable and UpdateTable requests: model checks and parsing of key
schemas, projections, throughput, streams, SSE and tags, in AWS's words.
"""

from __future__ import annotations

import time
import unicodedata
import uuid
import zlib
from typing import Any, Final

from strata.service.tables.catalogue import ACCOUNT_ID
from strata.service.tables.constraints import Constraints
from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.schema import IndexRecord, KeyElement
from strata.service.tables.service_errors import LimitExceeded
from strata.storage.store import Store

INVALID: Final = "One or more parameter values were invalid: "
LSI_COUNT_MAX: Final = 5
GSI_COUNT_MAX: Final = 20
PROJECTED_ATTRIBUTES_MAX: Final = 100
TAGS_MAX: Final = 50
KEY_TYPES: Final = ("B", "N", "S")
PROJECTION_TYPES: Final = ("ALL", "INCLUDE", "KEYS_ONLY")  # in the order AWS lists them
KEY_KINDS: Final = ("HASH", "RANGE")
# A GSI's multi-attribute key: up to four partition and four sort attributes (Nov 2025).
INDEX_KEY_PART_ATTRIBUTES_MAX: Final = 4
GSI_KEY_SCHEMA_ELEMENTS_MAX: Final = 2 * INDEX_KEY_PART_ATTRIBUTES_MAX
THROUGHPUT_UNITS_MAX: Final = 1_000_000_000_000
BILLING_MODES: Final = ("PROVISIONED", "PAY_PER_REQUEST")
STREAM_VIEW_TYPES: Final = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
TABLE_CLASSES: Final = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")


def check_throughput(checks: Constraints, throughput: Any, path: str) -> None:
    if throughput is None:
        return
    read = throughput.get("ReadCapacityUnits")
    write = throughput.get("WriteCapacityUnits")
    if checks.not_null(read, f"{path}.readCapacityUnits"):
        checks.range(read, f"{path}.readCapacityUnits", 1, None)
    if checks.not_null(write, f"{path}.writeCapacityUnits"):
        checks.range(write, f"{path}.writeCapacityUnits", 1, None)


def check_defined(names: list[str], definitions: dict[str, str]) -> None:
    """Every key attribute of a key schema has an AttributeDefinition."""
    if any(n not in definitions for n in names):
        raise ValidationError(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(str(n) for n in names)}], "
            f"AttributeDefinitions: [{', '.join(definitions)}]"
        )


def parse_key_schema(
    schema: list[dict[str, Any]], definitions: dict[str, str]
) -> tuple[KeyElement, KeyElement | None]:
    names: list[str] = [e["AttributeName"] for e in schema]
    check_defined(names, definitions)
    if len(names) == 2 and names[0] == names[1]:
        raise ValidationError(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if schema[0].get("KeyType") != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    hash_ = KeyElement(names[0], definitions[names[0]])
    if len(schema) == 1:
        return hash_, None
    if schema[1].get("KeyType") != "RANGE":
        raise ValidationError(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    return hash_, KeyElement(names[1], definitions[names[1]])


def parse_gsi_key_schema(
    name: str, schema: list[dict[str, Any]], definitions: dict[str, str]
) -> tuple[tuple[KeyElement, ...], tuple[KeyElement, ...]]:
    """A GSI's key schema: one or more HASH attributes, then zero or more RANGE ones.

    One HASH and at most one RANGE are checked as before (``parse_key_schema``). AWS
    documents the rules of a longer schema (HASH elements first, at most four of each,
    no attribute twice) but not its words for breaking them: the messages here are ours,
    in the style of its KeySchema errors.
    """
    kinds = [e.get("KeyType") for e in schema]
    if kinds.count("HASH") <= 1 and kinds.count("RANGE") <= 1:
        hash_, range_ = parse_key_schema(schema, definitions)
        return (hash_,), (range_,) if range_ is not None else ()
    names: list[str] = [e["AttributeName"] for e in schema]
    check_defined(names, definitions)
    if kinds[0] != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    hash_count = kinds.count("HASH")
    if kinds[hash_count:].count("HASH"):
        raise ValidationError(
            "Invalid KeySchema: every HASH KeySchemaElement must come before the RANGE "
            f"KeySchemaElements for index: {name}"
        )
    for kind, count in (("HASH", hash_count), ("RANGE", len(kinds) - hash_count)):
        if count > INDEX_KEY_PART_ATTRIBUTES_MAX:
            what = "partition" if kind == "HASH" else "sort"
            raise ValidationError(
                INVALID + f"The {what} key of index {name} has {count} attributes; a "
                f"multi-attribute key has at most {INDEX_KEY_PART_ATTRIBUTES_MAX} "
                f"({kind} KeySchemaElements)"
            )
    repeated = [n for i, n in enumerate(names) if n in names[:i]]
    if repeated:
        raise ValidationError(
            f"Invalid KeySchema: Duplicate attribute name in KeySchema: {repeated[0]}"
        )
    elements = tuple(KeyElement(n, definitions[n]) for n in names)
    return elements[:hash_count], elements[hash_count:]


def structures(value: Any) -> list[dict[str, Any]]:
    """The members of a list of structures (a member of another type cannot be decoded)."""
    for member in value:
        if not isinstance(member, dict):
            raise SerializationError("Unexpected field type")
    return list(value)


def check_key_schema(checks: Constraints, schema: Any, path: str, elements_max: int = 2) -> None:
    # AWS prints a list of structures with Java's toString: Class@hash.
    shown = (
        "'["
        + ", ".join(
            f"com.amazonaws.dynamodb.v20120810.KeySchemaElement@{zlib.crc32(repr(e).encode()):x}"
            for e in schema
        )
        + "]'"
    )
    checks.length(schema, path, 1, elements_max, shown if schema else None)
    for i, element in enumerate(structures(schema)):
        base = f"{path}.{i + 1}.member"
        if checks.not_null(element.get("AttributeName"), f"{base}.attributeName"):
            checks.length(element["AttributeName"], f"{base}.attributeName", 1, 255)
        if checks.not_null(element.get("KeyType"), f"{base}.keyType"):
            checks.enum(element["KeyType"], f"{base}.keyType", KEY_KINDS)


def check_index_update(checks: Constraints, update: dict[str, Any], base: str) -> None:
    """Model constraints of one GlobalSecondaryIndexUpdate (Update, Create or Delete)."""
    for action_name, path in (("Update", "update"), ("Create", "create"), ("Delete", "delete")):
        action = update.get(action_name)
        if action is None:
            continue
        if not isinstance(action, dict):
            raise SerializationError("Unexpected field type")
        at = f"{base}.{path}"
        if checks.not_null(action.get("IndexName"), f"{at}.indexName"):
            checks.index_name(action["IndexName"], f"{at}.indexName")
        if action_name == "Create":
            if checks.not_null(action.get("KeySchema"), f"{at}.keySchema"):
                check_key_schema(
                    checks, action["KeySchema"], f"{at}.keySchema", GSI_KEY_SCHEMA_ELEMENTS_MAX
                )
            if checks.not_null(action.get("Projection"), f"{at}.projection"):
                check_projection(checks, action["Projection"], f"{at}.projection")
            check_throughput(
                checks, action.get("ProvisionedThroughput"), f"{at}.provisionedThroughput"
            )
        elif action_name == "Update" and checks.not_null(
            action.get("ProvisionedThroughput"), f"{at}.provisionedThroughput"
        ):
            check_throughput(checks, action["ProvisionedThroughput"], f"{at}.provisionedThroughput")


def check_projection(checks: Constraints, projection: Any, path: str) -> None:
    if not isinstance(projection, dict):
        raise SerializationError("Unexpected field type")
    checks.enum(projection.get("ProjectionType"), f"{path}.projectionType", PROJECTION_TYPES)
    checks.length(projection.get("NonKeyAttributes"), f"{path}.nonKeyAttributes", 1, 20)


def throughput_units(throughput: dict[str, Any]) -> tuple[int, int]:
    read, write = int(throughput["ReadCapacityUnits"]), int(throughput["WriteCapacityUnits"])
    for value, name in ((read, "ReadCapacityUnits"), (write, "WriteCapacityUnits")):
        if value > THROUGHPUT_UNITS_MAX:
            raise ValidationError(f"Given value {value} for {name} is out of bounds")
    return read, write


def check_projected_count(indexes: list[IndexRecord]) -> None:
    total: set[str] = set()
    for i in indexes:
        total.update(i.non_key)
    if len(total) > PROJECTED_ATTRIBUTES_MAX:
        raise LimitExceeded(
            "One or more parameter values were invalid: Number of projected attributes in all "
            "indexes exceeds limit of 100"
        )


def parse_stream(spec: dict[str, Any] | None) -> tuple[bool, str | None]:
    if spec is None:
        return False, None
    enabled = spec.get("StreamEnabled")
    view_type = spec.get("StreamViewType")
    if enabled is None:
        raise ValidationError(
            "1 validation error detected: Value null at 'streamSpecification.streamEnabled' "
            "failed to satisfy constraint: Member must not be null"
        )
    if view_type is not None and view_type not in STREAM_VIEW_TYPES:
        raise ValidationError(
            f"1 validation error detected: Value '{view_type}' at "
            "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
            f"satisfy enum value set: [{', '.join(STREAM_VIEW_TYPES)}]"
        )
    if enabled and view_type is None:
        raise ValidationError(
            "StreamSpecification: You must specify a StreamViewType when StreamEnabled is set "
            "to true"
        )
    return bool(enabled), view_type if enabled else None


def parse_sse(spec: dict[str, Any] | None, region: str) -> dict[str, Any] | None:
    if not spec or not spec.get("Enabled"):
        return None
    key = spec.get("KMSMasterKeyId") or "alias/aws/dynamodb"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{uuid.uuid5(uuid.NAMESPACE_URL, key)}"
    return {"Status": "ENABLED", "SSEType": spec.get("SSEType") or "KMS", "KMSMasterKeyArn": key}


def parse_tags(tags: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, tag in enumerate(tags):
        checks = Constraints()
        key: Any = tag.get("Key")
        value: Any = tag.get("Value")
        for member, text, low, high in (("key", key, 1, 128), ("value", value, 0, 256)):
            path = f"tags.{i + 1}.member.{member}"
            if checks.not_null(text, path):
                checks.length(text, path, low, high)
                if not all(_tag_character(c) for c in text):
                    checks.add(
                        text, path, f"Member must satisfy regular expression pattern: {TAG_PATTERN}"
                    )
        checks.raise_if_any()
        if key.startswith(RESERVED_TAG_PREFIX):
            raise ValidationError(MSG_RESERVED_TAG)
        out[key] = value
    check_tag_count(len(out))
    return out


# ``aws:`` keys are AWS's own (its tagging rules): refused, as DynamoDB refuses them,
# with a ValidationException. AWS's words were not found; these are in its style.
RESERVED_TAG_PREFIX: Final = "aws:"
MSG_RESERVED_TAG: Final = (
    f"{INVALID}Tag key cannot start with the reserved prefix {RESERVED_TAG_PREFIX}"
)


# AWS's tag pattern (Java's \p{L} letters, \p{Z} separators, \p{N} numbers).
TAG_PATTERN: Final = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
_TAG_PUNCTUATION: Final = frozenset("_.:/=+-@")


def _tag_character(c: str) -> bool:
    return (
        c.isalpha() or c.isnumeric() or c in _TAG_PUNCTUATION or unicodedata.category(c)[0] == "Z"
    )


def check_tag_count(count: int) -> None:
    """At most 50 tags on a table; more is a ValidationException, as AWS answers (the
    wording is ours: AWS's was not found)."""
    if count > TAGS_MAX:
        raise ValidationError(f"{INVALID}The number of tags exceeds the limit of {TAGS_MAX}")


def stream_label(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"


def index_record(
    store: Store,
    ix: dict[str, Any],
    definitions: dict[str, str],
    is_global: bool,
    billing: str,
    seen: set[str],
    table_hash: KeyElement | None = None,
) -> IndexRecord:
    """Check one index as AWS does, in AWS's order, and build its record."""
    name = ix["IndexName"]
    hash_keys: tuple[KeyElement, ...] = ()
    range_keys: tuple[KeyElement, ...] = ()
    if is_global:
        hash_keys, range_keys = parse_gsi_key_schema(name, ix["KeySchema"], definitions)
        hash_, range_ = hash_keys[0], range_keys[0] if range_keys else None
        if len(hash_keys) == 1 and len(range_keys) <= 1:
            hash_keys = range_keys = ()  # a one-attribute key: stored as before
    else:
        hash_, range_ = parse_key_schema(ix["KeySchema"], definitions)
    if not is_global:
        if range_ is None:
            raise ValidationError(
                INVALID + f"Index KeySchema does not have a range key for index: {name}"
            )
        if table_hash is not None and hash_.name != table_hash.name:
            raise ValidationError(
                INVALID + "Index KeySchema does not have the same leading hash key as "
                f"table KeySchema for index: {name}. index hash key: {hash_.name}, table "
                f"hash key: {table_hash.name}"
            )
    projection = ix["Projection"]
    ptype = projection.get("ProjectionType")
    if ptype is None:
        raise ValidationError(INVALID + "Unknown ProjectionType: null")
    non_key = projection.get("NonKeyAttributes")
    if non_key is not None and ptype != "INCLUDE":
        raise ValidationError(
            INVALID + f"ProjectionType is {ptype}, but NonKeyAttributes is specified"
        )
    if name in seen:
        raise ValidationError(INVALID + f"Duplicate index name: {name}")
    seen.add(name)
    if non_key and len(set(non_key)) != len(non_key):
        raise ValidationError(INVALID + f"Duplicate attribute in NonKeyAttributes for index {name}")
    read_units = write_units = 0
    if is_global:
        throughput = ix.get("ProvisionedThroughput")
        if billing == "PAY_PER_REQUEST":
            if throughput is not None:
                raise ValidationError(
                    INVALID + "ProvisionedThroughput should not be specified for index: "
                    f"{name} when BillingMode is PAY_PER_REQUEST"
                )
        elif throughput is None:
            raise ValidationError(
                INVALID + f"ProvisionedThroughput is not specified for index: {name}"
            )
        else:
            read_units, write_units = throughput_units(throughput)
    return IndexRecord(
        name=name,
        index_id=store.hlc.now(),
        is_global=is_global,
        hash=hash_,
        range=range_,
        hash_keys=hash_keys,
        range_keys=range_keys,
        projection_type=ptype,
        non_key=tuple(non_key or ()),
        read_units=read_units,
        write_units=write_units,
        created_s=round(store.clock.now_s(), 3),
    )
