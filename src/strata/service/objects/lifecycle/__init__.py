"""Bucket lifecycle: the rule model (``rules``), the stored configurations (``configs``)
and the engine that runs them (``engine``)."""
