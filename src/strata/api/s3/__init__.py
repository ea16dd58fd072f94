"""The S3 REST protocol."""
