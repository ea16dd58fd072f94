"""Lifecycle rules: the parsed configuration, its validation, and when each rule is due.

Pure: no store, no clock, no I/O. The engine (``engine.py``), the ``x-amz-expiration``
header and the cost model's lifecycle preview all ask the same questions here: which
rules apply to this version (key, tags, size), and at what instant each action falls due.

S3's timing, which every ``due_*`` function follows: an action ``Days`` after a start
(creation, becoming noncurrent, initiation of an upload) is due at the midnight UTC that
follows the start plus that many days ("S3 rounds the resulting time to the next day
midnight UTC"); a ``Date`` action is due at that midnight, for every object matched,
whenever it was written.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import msgspec

from strata.errors import ProtocolError

DAY_MS: Final = 86_400_000
RULES_MAX: Final = 1000
RULE_ID_CHARS_MAX: Final = 255
NEWER_NONCURRENT_VERSIONS_MAX: Final = 100
SMALL_OBJECT_BYTES: Final = 128 * 1024  # under this, no transition by default

ALL_CLASSES_128K: Final = "all_storage_classes_128K"
VARIES_BY_CLASS: Final = "varies_by_storage_class"
MINIMUM_OBJECT_SIZES: Final = frozenset({ALL_CLASSES_128K, VARIES_BY_CLASS})

TRANSITION_CLASSES: Final = frozenset(
    {"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR"}
)
# The waterfall: a transition only ever moves a version to a colder class (a higher rank).
CLASS_RANK: Final[dict[str, int]] = {
    "STANDARD": 0,
    "REDUCED_REDUNDANCY": 0,
    "EXPRESS_ONEZONE": 0,
    "INTELLIGENT_TIERING": 1,
    "STANDARD_IA": 2,
    "ONEZONE_IA": 3,
    "GLACIER_IR": 4,
    "GLACIER": 5,
    "DEEP_ARCHIVE": 6,
}
# Classes S3 lets small objects into under ``varies_by_storage_class``.
SMALL_OBJECT_CLASSES: Final = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# Days a version must have lived (been noncurrent) before a transition into the class.
TRANSITION_DAYS_MIN: Final[dict[str, int]] = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


class RuleFilter(msgspec.Struct, frozen=True):
    """What a rule applies to. ``form`` keeps how it was written, for GET: "prefix"
    (legacy top-level ``Prefix``), "none" (no Filter), or "filter" / "and"."""

    prefix: str | None = None
    tags: list[tuple[str, str]] = []
    size_greater_than: int | None = None
    size_less_than: int | None = None
    form: str = "filter"

    @property
    def has_tags(self) -> bool:
        return bool(self.tags)

    @property
    def has_size(self) -> bool:
        return self.size_greater_than is not None or self.size_less_than is not None

    def matches_key(self, key: str) -> bool:
        return not self.prefix or key.startswith(self.prefix)

    def matches(self, key: str, tags: Sequence[tuple[str, str]], size_bytes: int | None) -> bool:
        """Whether a version (``size_bytes`` None: a delete marker) is in the filter."""
        prefix = self.prefix
        if prefix and not key.startswith(prefix):
            return False
        if self.tags:
            if size_bytes is None:
                return False  # delete markers have no tags
            held = dict(tags)
            if any(held.get(name) != value for name, value in self.tags):
                return False
        above, below = self.size_greater_than, self.size_less_than
        if above is not None or below is not None:
            if size_bytes is None:
                return False
            if above is not None and size_bytes <= above:
                return False
            if below is not None and size_bytes >= below:
                return False
        return True

    def describe(self) -> str:
        """The filter as S3's error messages name it: ``(prefix=logs/ and tag={...})``."""
        if self.form == "prefix":
            return f"(prefix={self.prefix or ''})"
        parts = [f"prefix={self.prefix}"] if self.prefix is not None else []
        parts += [f"tag={{key={k}, value={v}}}" for k, v in self.tags]
        if self.size_greater_than is not None:
            parts.append(f"objectsizegreaterthan={self.size_greater_than}")
        if self.size_less_than is not None:
            parts.append(f"objectsizelessthan={self.size_less_than}")
        return f"({' and '.join(parts)})" if parts else "(prefix=)"


class Transition(msgspec.Struct, frozen=True):
    storage_class: str
    days: int | None = None
    date_ms: int | None = None


class NoncurrentTransition(msgspec.Struct, frozen=True):
    storage_class: str
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None


class Rule(msgspec.Struct, frozen=True):
    id: str
    enabled: bool
    filter: RuleFilter = RuleFilter(form="none")
    expiration_days: int | None = None
    expiration_date_ms: int | None = None
    expired_object_delete_marker: bool | None = None  # as written (false is allowed)
    transitions: list[Transition] = []
    noncurrent_days: int | None = None  # NoncurrentVersionExpiration
    newer_noncurrent_versions: int | None = None
    noncurrent_expiration: bool = False  # the element was present
    noncurrent_transitions: list[NoncurrentTransition] = []
    abort_days: int | None = None  # AbortIncompleteMultipartUpload.DaysAfterInitiation

    @property
    def expires(self) -> bool:
        return self.expiration_days is not None or self.expiration_date_ms is not None


class LifecycleConfiguration(msgspec.Struct, frozen=True):
    rules: list[Rule]
    minimum_object_size: str = ALL_CLASSES_128K

    @property
    def enabled(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled]

    @property
    def expires_objects(self) -> bool:
        """Whether ``x-amz-expiration`` can apply to any object (enabled Expiration rules)."""
        return any(rule.enabled and rule.expires for rule in self.rules)


@dataclass(frozen=True, slots=True)
class _RuleSets:
    """A configuration's enabled rules by action, so a version is matched only against the
    rules that can act on it."""

    expiring: list[Rule]
    transitioning: list[Rule]
    noncurrent_expiring: list[Rule]
    noncurrent_transitioning: list[Rule]
    marker_removing: list[Rule]
    aborting: list[Rule]


_SETS_MAX: Final = 256
_sets_cache: dict[int, tuple[LifecycleConfiguration, _RuleSets]] = {}


def _sets(config: LifecycleConfiguration) -> _RuleSets:
    cached = _sets_cache.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    enabled = config.enabled
    sets = _RuleSets(
        expiring=[r for r in enabled if r.expires],
        transitioning=[r for r in enabled if r.transitions],
        noncurrent_expiring=[
            r for r in enabled if r.noncurrent_expiration and r.noncurrent_days is not None
        ],
        noncurrent_transitioning=[r for r in enabled if r.noncurrent_transitions],
        marker_removing=[r for r in enabled if r.expired_object_delete_marker],
        aborting=[r for r in enabled if r.abort_days is not None],
    )
    if len(_sets_cache) >= _SETS_MAX:
        _sets_cache.clear()
    _sets_cache[id(config)] = (config, sets)  # holding config keeps its id from reuse
    return sets


# ---- when things fall due ---------------------------------------------------------------


def due_after_days(start_ms: int, days: int) -> int:
    """The midnight UTC after ``start_ms`` plus ``days`` days (S3's rounding)."""
    return (start_ms // DAY_MS + days + 1) * DAY_MS


@dataclass(frozen=True, slots=True)
class Due:
    """One action of one rule for one version: when, and (for moves) where to."""

    at_ms: int
    rule_id: str
    storage_class: str = ""


def expiration(
    config: LifecycleConfiguration,
    key: str,
    tags: Sequence[tuple[str, str]],
    size_bytes: int,
    created_ms: int,
) -> Due | None:
    """The earliest Expiration (Days or Date) of a current version, or None."""
    best: Due | None = None
    for rule in _sets(config).expiring:
        if not rule.filter.matches(key, tags, size_bytes):
            continue
        if rule.expiration_days is not None:
            at_ms = due_after_days(created_ms, rule.expiration_days)
        else:
            assert rule.expiration_date_ms is not None
            at_ms = rule.expiration_date_ms
        if best is None or at_ms < best.at_ms:
            best = Due(at_ms, rule.id)
    return best


def _may_transition(
    config: LifecycleConfiguration, rule: Rule, size_bytes: int, storage_class: str
) -> bool:
    """The default minimum object size: a rule with its own size filter decides alone."""
    if rule.filter.has_size or size_bytes >= SMALL_OBJECT_BYTES:
        return True
    return config.minimum_object_size == VARIES_BY_CLASS and storage_class in SMALL_OBJECT_CLASSES


def transitions(
    config: LifecycleConfiguration,
    key: str,
    tags: Sequence[tuple[str, str]],
    size_bytes: int,
    created_ms: int,
) -> list[Due]:
    """Every transition of a current version, in the order they fall due."""
    out: list[Due] = []
    for rule in _sets(config).transitioning:
        if not rule.filter.matches(key, tags, size_bytes):
            continue
        for transition in rule.transitions:
            if not _may_transition(config, rule, size_bytes, transition.storage_class):
                continue
            if transition.days is not None:
                at_ms = due_after_days(created_ms, transition.days)
            else:
                assert transition.date_ms is not None
                at_ms = transition.date_ms
            out.append(Due(at_ms, rule.id, transition.storage_class))
    out.sort(key=lambda due: (due.at_ms, CLASS_RANK[due.storage_class]))
    return out


def noncurrent_expiration(
    config: LifecycleConfiguration,
    key: str,
    tags: Sequence[tuple[str, str]],
    size_bytes: int | None,
    noncurrent_since_ms: int,
    newer_noncurrent: int,
) -> Due | None:
    """When a noncurrent version (``newer_noncurrent`` noncurrent versions are newer than
    it) expires, or None: the rule keeps the newest NewerNoncurrentVersions of them."""
    best: Due | None = None
    for rule in _sets(config).noncurrent_expiring:
        assert rule.noncurrent_days is not None
        kept = rule.newer_noncurrent_versions
        if kept is not None and newer_noncurrent < kept:
            continue
        if not rule.filter.matches(key, tags, size_bytes):
            continue
        at_ms = due_after_days(noncurrent_since_ms, rule.noncurrent_days)
        if best is None or at_ms < best.at_ms:
            best = Due(at_ms, rule.id)
    return best


def noncurrent_transitions(
    config: LifecycleConfiguration,
    key: str,
    tags: Sequence[tuple[str, str]],
    size_bytes: int,
    noncurrent_since_ms: int,
    newer_noncurrent: int,
) -> list[Due]:
    """Every NoncurrentVersionTransition of a noncurrent version, in due order."""
    out: list[Due] = []
    for rule in _sets(config).noncurrent_transitioning:
        if not rule.filter.matches(key, tags, size_bytes):
            continue
        for transition in rule.noncurrent_transitions:
            kept = transition.newer_noncurrent_versions
            if kept is not None and newer_noncurrent < kept:
                continue
            if not _may_transition(config, rule, size_bytes, transition.storage_class):
                continue
            at_ms = due_after_days(noncurrent_since_ms, transition.noncurrent_days or 0)
            out.append(Due(at_ms, rule.id, transition.storage_class))
    out.sort(key=lambda due: (due.at_ms, CLASS_RANK[due.storage_class]))
    return out


def latest_move(due: Sequence[Due], storage_class: str, now_ms: int) -> Due | None:
    """The coldest transition already due that is colder than ``storage_class``."""
    rank = CLASS_RANK.get(storage_class, 0)
    best: Due | None = None
    for candidate in due:
        if candidate.at_ms > now_ms or CLASS_RANK[candidate.storage_class] <= rank:
            continue
        if best is None or CLASS_RANK[candidate.storage_class] > CLASS_RANK[best.storage_class]:
            best = candidate
    return best


def removes_delete_marker(
    config: LifecycleConfiguration,
    key: str,
    created_ms: int | None = None,
    now_ms: int | None = None,
) -> str | None:
    """The id of a rule that removes ``key``'s sole delete marker: ExpiredObjectDeleteMarker
    at once, or (given the marker's creation and now) an Expiration by Days once the
    marker is that old ("when you specify Days, S3 automatically performs
    ExpiredObjectDeleteMarker cleanup when the delete markers are old enough")."""
    sets = _sets(config)
    for rule in sets.marker_removing:
        if rule.filter.matches_key(key):
            return rule.id
    if created_ms is None or now_ms is None:
        return None
    for rule in sets.expiring:
        days = rule.expiration_days
        if days is None or not rule.filter.matches(key, (), None):
            continue
        if due_after_days(created_ms, days) <= now_ms:
            return rule.id
    return None


def upload_abort(config: LifecycleConfiguration, key: str, initiated_ms: int) -> Due | None:
    """When an incomplete multipart upload of ``key`` is aborted, or None."""
    best: Due | None = None
    for rule in _sets(config).aborting:
        if rule.abort_days is None or not rule.filter.matches_key(key):
            continue
        at_ms = due_after_days(initiated_ms, rule.abort_days)
        if best is None or at_ms < best.at_ms:
            best = Due(at_ms, rule.id)
    return best


# ---- validation, with S3's codes and messages ---------------------------------------------


def _invalid_argument(message: str) -> ProtocolError:
    return ProtocolError("InvalidArgument", message)


def _invalid_request(message: str) -> ProtocolError:
    return ProtocolError("InvalidRequest", message)


def validate(config: LifecycleConfiguration) -> None:
    """Refuse what S3 refuses, with its code and message (the XML's shape, which S3
    answers with MalformedXML, is checked by the parser)."""
    if not config.rules or len(config.rules) > RULES_MAX:
        raise _malformed()
    seen: set[str] = set()
    for rule in config.rules:
        if len(rule.id) > RULE_ID_CHARS_MAX:
            raise _invalid_argument("ID length should not exceed allowed limit of 255")
        if rule.id in seen:
            raise _invalid_argument("Rule ID must be unique. Found same ID for more than one rule")
        seen.add(rule.id)
        _validate_rule(rule)


def _malformed() -> ProtocolError:
    return ProtocolError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _validate_rule(rule: Rule) -> None:
    where = rule.filter.describe()
    kind = "prefix" if rule.filter.form == "prefix" else "filter"
    no_action = (
        not rule.expires
        and rule.expired_object_delete_marker is None
        and not rule.transitions
        and not rule.noncurrent_expiration
        and not rule.noncurrent_transitions
        and rule.abort_days is None
    )
    if no_action:
        raise _invalid_request("At least one action needs to be specified in a rule")
    size = rule.filter
    if (
        size.size_greater_than is not None
        and size.size_less_than is not None
        and size.size_greater_than >= size.size_less_than
    ):
        raise _invalid_argument(
            "ObjectSizeGreaterThan must be less than ObjectSizeLessThan in a lifecycle filter."
        )
    if rule.expiration_days is not None and rule.expiration_days <= 0:
        raise _invalid_argument("'Days' for Expiration action must be a positive integer")
    if rule.expired_object_delete_marker and rule.filter.has_tags:
        raise _invalid_request(
            "ExpiredObjectDeleteMarker cannot be specified with Tag-based filters."
        )
    if rule.abort_days is not None:
        if rule.abort_days <= 0:
            raise _invalid_argument(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a "
                "positive integer"
            )
        if rule.filter.has_tags or rule.filter.has_size:
            raise _invalid_request(
                "AbortIncompleteMultipartUpload cannot be specified with Tags."
                if rule.filter.has_tags
                else "AbortIncompleteMultipartUpload cannot be specified with object size filters."
            )
    if rule.noncurrent_expiration:
        if rule.noncurrent_days is None:
            raise _malformed()
        if rule.noncurrent_days <= 0:
            raise _invalid_argument(
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"
            )
        _check_newer(rule.newer_noncurrent_versions, "NoncurrentVersionExpiration")
    _validate_transitions(rule, where, kind)
    _validate_noncurrent_transitions(rule, where, kind)


def _check_newer(newer: int | None, action: str) -> None:
    if newer is not None and not 0 < newer <= NEWER_NONCURRENT_VERSIONS_MAX:
        raise _invalid_argument(
            f"'NewerNoncurrentVersions' for {action} action must be a positive integer "
            f"no greater than {NEWER_NONCURRENT_VERSIONS_MAX}"
        )


def _validate_transitions(rule: Rule, where: str, kind: str) -> None:
    if not rule.transitions:
        return
    by_days = [t for t in rule.transitions if t.days is not None]
    by_date = [t for t in rule.transitions if t.date_ms is not None]
    if by_days and by_date:
        raise _invalid_request(
            f"Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for "
            f"{kind} '{where}'"
        )
    if (by_days and rule.expiration_date_ms is not None) or (by_date and rule.expiration_days):
        raise _invalid_request(
            f"Found mixed 'Date' and 'Days' based Expiration and Transition actions in "
            f"lifecycle rule for {kind} '{where}'"
        )
    classes: set[str] = set()
    for transition in rule.transitions:
        if transition.storage_class in classes:
            raise _invalid_request(
                f"'StorageClass' must be different for 'Transition' actions in same 'Rule' "
                f"with {kind} '{where}'"
            )
        classes.add(transition.storage_class)
        if transition.days is not None:
            if transition.days < 0:
                raise _invalid_argument("'Days' in Transition action must be nonnegative")
            minimum = TRANSITION_DAYS_MIN.get(transition.storage_class, 0)
            if transition.days < minimum:
                raise _invalid_argument(
                    f"'Days' in Transition action must be greater than or equal to {minimum} "
                    f"for storageClass '{transition.storage_class}'"
                )
    ordered = sorted(rule.transitions, key=lambda t: CLASS_RANK[t.storage_class])
    for warmer, colder in itertools.pairwise(ordered):
        if by_days:
            assert warmer.days is not None
            assert colder.days is not None
            if warmer.storage_class in TRANSITION_DAYS_MIN and colder.days - warmer.days < 30:
                raise _invalid_argument(
                    f"'Days' in the Transition action for StorageClass '{colder.storage_class}' "
                    f"for {kind} '{where}' must be 30 days more than 'filter' in the Transition "
                    f"action for StorageClass '{warmer.storage_class}'"
                )
            later = colder.days > warmer.days
        else:
            assert warmer.date_ms is not None
            assert colder.date_ms is not None
            later = colder.date_ms > warmer.date_ms
        if not later:
            field = "Days" if by_days else "Date"
            raise _invalid_argument(
                f"'{field}' in the Transition action for StorageClass '{colder.storage_class}' "
                f"for {kind} '{where}' must be greater than '{field}' in the Transition action "
                f"for StorageClass '{warmer.storage_class}'"
            )
    expiration_days, expiration_date_ms = rule.expiration_days, rule.expiration_date_ms
    if expiration_days is not None and any(expiration_days <= (t.days or 0) for t in by_days):
        raise _invalid_argument(
            f"'Days' in the Expiration action for {kind} '{where}' must be greater than "
            f"'Days' in the Transition action"
        )
    if expiration_date_ms is not None and any(
        expiration_date_ms <= (t.date_ms or 0) for t in by_date
    ):
        raise _invalid_argument(
            f"'Date' in the Expiration action for {kind} '{where}' must be later than "
            f"'Date' in the Transition action"
        )


def _validate_noncurrent_transitions(rule: Rule, where: str, kind: str) -> None:
    classes: set[str] = set()
    for transition in rule.noncurrent_transitions:
        if transition.noncurrent_days is None:
            raise _malformed()
        if transition.storage_class in classes:
            raise _invalid_request(
                f"'StorageClass' must be different for 'NoncurrentVersionTransition' actions "
                f"in same 'Rule' with {kind} '{where}'"
            )
        classes.add(transition.storage_class)
        if transition.noncurrent_days < 0:
            raise _invalid_argument(
                "'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative"
            )
        minimum = TRANSITION_DAYS_MIN.get(transition.storage_class, 0)
        if transition.noncurrent_days < minimum:
            raise _invalid_argument(
                f"'NoncurrentDays' in NoncurrentVersionTransition action must be greater than "
                f"or equal to {minimum} for storageClass '{transition.storage_class}'"
            )
        _check_newer(transition.newer_noncurrent_versions, "NoncurrentVersionTransition")
    days = rule.noncurrent_days if rule.noncurrent_expiration else None
    if days is not None and any(
        days <= (t.noncurrent_days or 0) for t in rule.noncurrent_transitions
    ):
        raise _invalid_argument(
            f"'NoncurrentDays' in the NoncurrentVersionExpiration action for {kind} "
            f"'{where}' must be greater than 'NoncurrentDays' in the "
            f"NoncurrentVersionTransition action"
        )
