"""Intelligent-Tiering and archive restores (``tiers``, ``configuration``, ``engine``,
``restore``), wired together in ``service.Tiering``."""
