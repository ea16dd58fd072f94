"""A local key service speaking KMS: keys, aliases, envelope encryption (``keys.py``)."""
