import pytest

from strata.bench.units import format_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4096", 4096),
        ("4KiB", 4096),
        ("4k", 4096),
        ("4kb", 4000),
        ("1MiB", 1024**2),
        ("256m", 256 * 1024**2),
        ("1.5KiB", 1536),
        ("2GiB", 2 * 1024**3),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "4 parsecs", "1.3B", "-1"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15s", 15.0), ("15", 15.0), ("500ms", 0.5), ("2m", 120.0), ("1m30s", 90.0), ("1h", 3600.0)],
)
def test_parse_duration(text: str, expected: float) -> None:
    seconds = parse_duration(text)
    assert seconds == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "s", "5x", "1m 30s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_size() -> None:
    assert format_size(4096) == "4KiB"
    assert format_size(256 * 1024**2) == "256MiB"
    assert format_size(1000) == "1000B"
