"""The spaces (RocksDB column families), one per record kind.

A key in every space begins with its partition, packed with ``keys.pack`` as the first
component: the S3 bucket and key, or the DynamoDB table and partition key. A cluster can
read the partition off any key and route it without knowing the service.
"""

from typing import Final

META: Final = "meta"  # server identity, format version, counters
BLOB_REFS: Final = "blob_refs"  # blob id -> owning record key: what start-up GC keeps
BUCKETS: Final = "buckets"  # bucket name -> bucket record
OBJECTS: Final = "objects"  # (bucket, key, inverted stamp) -> object version record
UPLOADS: Final = "uploads"  # (bucket, key, upload id) -> multipart upload record
PARTS: Final = "parts"  # (upload id, part number) -> part record
TABLES: Final = "tables"  # table name -> table description
ITEMS: Final = "items"  # (table id, partition key, sort key) -> item
INDEXES: Final = "indexes"  # (table id, index, index keys, base keys) -> projected item
STREAMS: Final = "streams"  # (table id, shard, sequence) -> stream record
TOKENS: Final = "tokens"  # idempotency tokens (transactions) with their expiry
IAM: Final = "iam"  # (kind, name) -> IAM user, access key, group, policy, role, STS session
AUDIT: Final = "audit"  # (day, HLC stamp) -> audit trail entry (service/audit)
KMS: Final = "kms"  # (kind, key id or alias name) -> KMS key or alias (service/kms)
# Extent id -> location in a volume, and (extent id, owning record key) references
# (storage/volumes/extent.py).
EXTENTS: Final = "extents"

ALL: Final = (
    META,
    BLOB_REFS,
    BUCKETS,
    OBJECTS,
    UPLOADS,
    PARTS,
    TABLES,
    ITEMS,
    INDEXES,
    STREAMS,
    TOKENS,
    IAM,
    AUDIT,
    EXTENTS,
    KMS,
)
