"""Every bound the server enforces, in one place. Units last."""

from typing import Final

# HTTP
header_bytes_max: Final = 16 * 1024  # all request header names and values together
header_count_max: Final = 200
# The HTTP server refuses (431, close) a request head beyond this before buffering more;
# above header_bytes_max so the protocols' own errors answer the merely too large.
http_head_bytes_max: Final = 64 * 1024
dynamodb_body_bytes_max: Final = 16 * 1024 * 1024  # largest JSON request body (BatchWrite 25x400KB)
xml_body_bytes_max: Final = 1024 * 1024  # S3 configuration bodies (tagging, CORS, delete)
query_body_bytes_max: Final = 1024 * 1024  # IAM/STS forms: a 128 KiB policy, URL-encoded
delete_objects_body_bytes_max: Final = 2 * 1024 * 1024  # 1000 keys of 1024 bytes, quoted

# S3
object_bytes_max: Final = 5 * 1024**3  # single PutObject
part_bytes_max: Final = 5 * 1024**3
part_bytes_min: Final = 5 * 1024**2  # every part but the last
parts_count_max: Final = 10_000
complete_body_bytes_max: Final = 4 * 1024 * 1024  # CompleteMultipartUpload: 10000 parts
key_bytes_max: Final = 1024
metadata_bytes_max: Final = 2 * 1024
inline_object_bytes_max: Final = 64 * 1024  # objects at most this big live inside RocksDB
post_fields_bytes_max: Final = 20 * 1024  # POST Object: the form fields before the file
admin_body_bytes_max: Final = 64 * 1024  # JSON bodies of /_strata/ endpoints (clock)

# Auth
clock_skew_s_max: Final = 15 * 60
presign_expiry_s_max: Final = 7 * 24 * 3600
clock_offset_s_max: Final = 100 * 365 * 24 * 3600  # the store clock runs at most this far ahead

# Storage
stream_chunk_bytes: Final = 256 * 1024
state_drain_s_max: Final = 5.0  # restore/reset: how long running requests may finish first

# DynamoDB
item_bytes_max: Final = 400 * 1024
page_bytes_max: Final = 1024 * 1024
