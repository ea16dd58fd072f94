"""Protocols: parse, authenticate, validate, serialise, map errors."""
