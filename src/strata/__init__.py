"""Strata: S3- and DynamoDB-compatible storage on one durable RocksDB core."""

__version__ = "0.1.0"
