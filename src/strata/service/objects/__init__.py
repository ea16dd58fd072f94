"""S3 semantics: buckets, objects, versions, multipart uploads."""
