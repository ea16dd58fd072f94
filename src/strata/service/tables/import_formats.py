"""The source files of an ImportTable: decompressed line by line, each line an item.

Formats as AWS documents them (Import from Amazon S3, "Import format quotas and
validation"):

- ``DYNAMODB_JSON``: one ``{"Item": {<attribute values>}}`` object per line, the layout of
  an export's ``data/*.json.gz`` files.
- ``CSV``: a header row (or ``CsvOptions.HeaderList``, and then the first row is data),
  then one item per row; key attributes take the type their ``AttributeDefinitions``
  give, every other attribute is a string.

Compression ``GZIP``, ``ZSTD`` or ``NONE``. A line that does not make an item is an error
that skips that line; a file whose bytes cannot be read (bad compression, a line longer
than any item can be) is an error that skips the rest of the file, as AWS's import does.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from typing import Any, Final

import msgspec
import zstandard

from strata.service.tables.errors import TablesError
from strata.service.tables.values import Item, normalize_number, validate_value

LINE_BYTES_MAX: Final = 4 * 1024 * 1024  # no item's line is longer (400 KB of values)
_DECODER: Final = msgspec.json.Decoder()
# A field may be as long as an item (the module's default is 128 KiB); process-wide.
csv.field_size_limit(LINE_BYTES_MAX)


class BadLine(Exception):
    """A line that does not make an item (counted as an error, skipped)."""


class BadFile(Exception):
    """The rest of a file cannot be read (counted as one error)."""


def lines(data: bytes, compression: str) -> Iterator[bytes]:
    """The file's lines, decompressed as they are read; BadFile when the bytes break."""
    raw: io.BufferedIOBase
    source = io.BytesIO(data)
    if compression == "GZIP":
        raw = gzip.GzipFile(fileobj=source, mode="rb")
    elif compression == "ZSTD":
        raw = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(source))  # type: ignore[arg-type]
    else:
        raw = source
    try:
        while True:
            line = raw.readline(LINE_BYTES_MAX + 1)
            if not line:
                return
            if len(line) > LINE_BYTES_MAX:
                raise BadFile(f"a line longer than {LINE_BYTES_MAX} bytes")
            yield line
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        raise BadFile(f"the object cannot be decompressed as {compression}: {exc}") from None


def dynamodb_json_item(line: bytes) -> Item | None:
    """The item of one DynamoDB JSON line (None: a blank line)."""
    if not line.strip():
        return None
    try:
        doc = _DECODER.decode(line)
    except (msgspec.DecodeError, RecursionError):
        raise BadLine("the line is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict) or len(doc) != 1:
        raise BadLine('the line is not one {"Item": {...}} object')
    item = doc["Item"]
    if not item:
        raise BadLine("the item has no attributes")
    return item  # type: ignore[no-any-return]


class CsvRows:
    """CSV lines to items: ``header`` as given (HeaderList) or read from the first line
    of each file; ``key_types`` maps each key attribute to S, N or B."""

    def __init__(self, delimiter: str, header: list[str] | None, key_types: dict[str, str]):
        self.delimiter = delimiter
        self.header = header
        self.key_types = key_types

    def items(self, file_lines: Iterator[bytes]) -> Iterator[Item | BadLine]:
        header = self.header
        # Bytes that are not UTF-8 become lone surrogates, refused per row below (a
        # decoding error raised inside the reader would end it).
        text = (line.decode("utf-8", "surrogateescape") for line in file_lines)
        reader = csv.reader(text, delimiter=self.delimiter, strict=True)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadLine(f"the CSV row cannot be read: {exc}")
                continue
            if header is None:
                header = row
                continue
            if not any(row):
                continue
            yield self._item(header, row)

    def _item(self, header: list[str], row: list[str]) -> Item | BadLine:
        if len(row) > len(header):
            return BadLine("the row has more fields than the header")
        if not all(_utf8(value) for value in row):
            return BadLine("the row is not UTF-8")
        item: Item = {}
        for name, value in zip(header, row, strict=False):
            kind = self.key_types.get(name)
            if kind is None:
                item[name] = {"S": value}
                continue
            try:
                item[name] = _key_value(kind, value)
            except (TablesError, ValueError) as exc:
                return BadLine(f"the key attribute {name} is not of type {kind}: {exc}")
        return item


def _key_value(kind: str, text: str) -> dict[str, Any]:
    if kind == "N":
        return {"N": normalize_number(text.strip())}
    if kind == "B":
        return validate_value({"B": text})
    return {"S": text}


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
