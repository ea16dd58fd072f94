"""A request's condition keys, readable one at a time: what keeps a cached decision cheap.

The decision cache (``policy/decider.py``) keys a decision on the values of the few context
keys the applicable statements read (``aws:SourceIp``, ``aws:SecureTransport``...). Building
a request's whole context for that (every key S3 or DynamoDB offers, lower-cased, merged with
the caller's) cost more than the rest of a cached decision; ``RequestKeys`` reads one key
with one function call, and builds the whole context only when a policy is evaluated or a
key has no reader of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from strata.service.iam.access import Context, ContextValue

Subject = TypeVar("Subject")


class RequestKeys(Generic[Subject]):
    """Called, the whole context (built once); ``value(key)``, one lower-cased key.

    ``readers`` give single keys from ``subject`` and must agree with ``build`` (a unit test
    per protocol checks it); any other key is looked up in the whole context, unless it
    begins with one of ``foreign`` (another service's keys: ``dynamodb:`` in an S3 request),
    which this request never has. So a key added to ``build`` later is always found.
    """

    __slots__ = ("_build", "_built", "_foreign", "_readers", "_subject")

    def __init__(
        self,
        subject: Subject,
        readers: Mapping[str, Callable[[Subject], ContextValue | None]],
        foreign: tuple[str, ...],
        build: Callable[[], Context],
    ) -> None:
        self._subject = subject
        self._readers = readers
        self._foreign = foreign
        self._build = build
        self._built: Context | None = None

    def __call__(self) -> Context:
        built = self._built
        if built is None:
            built = self._built = self._build()
        return built

    def value(self, key: str) -> ContextValue | None:
        reader = self._readers.get(key)
        if reader is not None:
            return reader(self._subject)
        if key.startswith(self._foreign):
            return None
        for name, value in self().items():
            if name.lower() == key:
                return value
        return None
