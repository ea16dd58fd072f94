"""The Prometheus text: HELP and TYPE per family, escaped labels, bounded label sets."""

from __future__ import annotations

import re

import pytest

from strata.api.metrics import ERROR_CODES_PER_SERVICE_MAX, Metrics, escape_label


def _families(text: str) -> dict[str, tuple[str | None, str | None]]:
    """Family name -> (HELP, TYPE), and every sample's family must have both."""
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.MULTILINE))
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    return {name: (helps.get(name), types.get(name)) for name in helps.keys() | types.keys()}


def test_label_values_are_escaped() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    metrics = Metrics()
    metrics.observe("s3", 'Evil"} 999 #\n', 200, 0.01, 0, 0, None)
    text = metrics.render()
    assert 'operation="Evil\\"} 999 #\\n"' in text
    assert not any(line.startswith("999") for line in text.splitlines())


def test_unknown_operations_share_one_label() -> None:
    metrics = Metrics(operations={"dynamodb": {"GetItem"}})
    for n in range(50):
        metrics.observe("dynamodb", f"Bogus{n}", 400, 0.001, 0, 0, "UnknownOperationException")
    metrics.observe("dynamodb", "GetItem", 200, 0.001, 0, 0, None)
    assert set(metrics.requests) == {("dynamodb", "unknown", 400), ("dynamodb", "GetItem", 200)}
    assert metrics.requests[("dynamodb", "unknown", 400)] == 50


def test_error_codes_are_shaped_and_capped() -> None:
    metrics = Metrics()
    metrics.observe("s3", "GetObject", 400, 0.001, 0, 0, 'No"Such')
    for n in range(ERROR_CODES_PER_SERVICE_MAX + 20):
        metrics.observe("s3", "GetObject", 400, 0.001, 0, 0, f"Code{n}")
    codes = {code for service, code in metrics.errors}
    assert len(codes) == ERROR_CODES_PER_SERVICE_MAX + 1  # the cap, and "other"
    assert metrics.errors[("s3", "other")] == 21


def test_every_family_has_help_and_type() -> None:
    metrics = Metrics()
    metrics.observe("s3", "GetObject", 200, 0.001, 10, 20, None)
    metrics.observe("s3", "GetObject", 404, 0.001, 0, 0, "NoSuchKey")
    metrics.register("strata_things", "Things.", lambda: 3.0)
    metrics.register(
        "strata_parts_total",
        "Parts by kind.",
        lambda: [({"kind": "a"}, 1.0), ({"kind": "b"}, 2.5)],
        kind="counter",
    )
    text = metrics.render()
    families = _families(text)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.split(r"[{ ]", line)[0]
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            help_text, kind = families.get(name) or families[base]
            assert help_text, name
            assert kind in ("counter", "gauge", "histogram"), name
    assert "strata_things 3\n" in text
    assert families["strata_parts_total"] == ("Parts by kind.", "counter")
    assert 'strata_parts_total{kind="b"} 2.5' in text


def test_a_failing_reading_drops_only_its_family() -> None:
    metrics = Metrics()

    def broken() -> float:
        raise RuntimeError("store closed")

    metrics.register("strata_broken", "Broken.", broken)
    metrics.register("strata_fine", "Fine.", lambda: 1.0)
    text = metrics.render()
    assert "strata_broken" not in text
    assert "strata_fine 1" in text


def test_registering_needs_help_and_a_unique_name() -> None:
    metrics = Metrics()
    metrics.register("strata_once", "Once.", lambda: 1.0)
    with pytest.raises(AssertionError):
        metrics.register("strata_once", "Again.", lambda: 1.0)
    with pytest.raises(AssertionError):
        metrics.register("strata_silent", "", lambda: 1.0)
