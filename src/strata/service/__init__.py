"""Services: the semantics of S3 objects and DynamoDB tables over a ``Store``."""
