"""An import's source files: decompression line by line, CSV rows to items, and what is
refused (a bad line skips the line, a bad file the rest of the file)."""

from __future__ import annotations

import gzip

import pytest
import zstandard

from strata.service.tables.import_formats import (
    LINE_BYTES_MAX,
    BadFile,
    BadLine,
    CsvRows,
    dynamodb_json_item,
    lines,
)

TEXT = b'{"Item":{"pk":{"S":"a"}}}\n{"Item":{"pk":{"S":"b"}}}\n'


@pytest.mark.parametrize(
    ("compression", "data"),
    [
        ("NONE", TEXT),
        ("GZIP", gzip.compress(TEXT, mtime=0)),
        ("ZSTD", zstandard.ZstdCompressor().compress(TEXT)),
    ],
    ids=["NONE", "GZIP", "ZSTD"],  # the same names in every xdist worker
)
def test_every_compression_gives_the_same_lines(compression: str, data: bytes) -> None:
    assert list(lines(data, compression)) == TEXT.splitlines(keepends=True)


@pytest.mark.parametrize("compression", ["GZIP", "ZSTD"])
def test_bytes_that_do_not_decompress_are_a_bad_file(compression: str) -> None:
    with pytest.raises(BadFile):
        list(lines(b"plain text, not compressed" * 10, compression))


def test_a_line_longer_than_any_item_is_a_bad_file() -> None:
    with pytest.raises(BadFile):
        list(lines(b"x" * (LINE_BYTES_MAX + 10) + b"\n", "NONE"))


def test_dynamodb_json_lines() -> None:
    assert dynamodb_json_item(b'{"Item":{"pk":{"S":"a"}}}\n') == {"pk": {"S": "a"}}
    assert dynamodb_json_item(b"   \n") is None
    for bad in (b"nope", b'{"pk":{"S":"a"}}', b'{"Item":{}}', b'{"Item":1}', b"[" * 10_000):
        with pytest.raises(BadLine):
            dynamodb_json_item(bad)


def rows(text: bytes, **options: object) -> list[object]:
    csv = CsvRows(
        str(options.get("delimiter", ",")),
        options.get("header"),  # type: ignore[arg-type]
        {"pk": "S", "n": "N", "b": "B"},
    )
    return list(csv.items(iter(text.splitlines(keepends=True))))


def test_csv_rows_take_key_types_and_strings() -> None:
    found = rows(b'pk,n,b,note\nu1,007,AQID,"two\nlines, one field"\n\nu2,1.50,,\n')
    assert found == [
        {
            "pk": {"S": "u1"},
            "n": {"N": "7"},
            "b": {"B": "AQID"},
            "note": {"S": "two\nlines, one field"},
        },
        {"pk": {"S": "u2"}, "n": {"N": "1.5"}, "b": {"B": ""}, "note": {"S": ""}},
    ]
    assert rows(b"u1;3\n", delimiter=";", header=["pk", "n"]) == [
        {"pk": {"S": "u1"}, "n": {"N": "3"}}
    ]


def test_csv_rows_that_are_not_items() -> None:
    found = rows(b"pk,n\nu1,abc\nu2,1,extra\nu3,\xff\xfe\nu4,2\n")
    assert [type(r) for r in found] == [BadLine, BadLine, BadLine, dict]
    assert found[3] == {"pk": {"S": "u4"}, "n": {"N": "2"}}
