"""Ion text of items: what an ION export writes reads back as the same item, and lines
that are not an item are refused (an import counts them as errors)."""

from __future__ import annotations

import pytest

from strata.service.tables.ion_text import IonError, encode_item, item_of_line
from strata.service.tables.values import validate_item

ITEM = {
    "pk": {"S": 'quote " and é'},
    "n": {"N": "-1.5"},
    "zero": {"N": "0"},
    "big": {"N": "1E+20"},
    "tiny": {"N": "0.000001"},
    "b": {"B": "AQID"},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "nothing": {"NULL": True},
    "l": {"L": [{"S": "x"}, {"N": "2"}, {"L": []}]},
    "m": {"M": {"null": {"S": "a keyword as a name"}, "has space": {"N": "3"}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": ["AQ=="]},
}


def test_an_exported_line_reads_back_as_the_item() -> None:
    line = encode_item(ITEM)
    assert line.startswith(b"$ion_1_0 {Item:{")
    assert line.endswith(b"}}\n")
    assert validate_item(item_of_line(line.decode())) == validate_item(ITEM)


def test_ion_as_other_writers_write_it() -> None:
    line = (
        "$ion_1_0 {Item:{pk:\"x\", 'quoted name':1., f:2.5e0, d:1d-2, /* c */ n:null.string,"
        ' s:$dynamodb_SS::["a"], b:{{ AQ== }}}} // trailing'
    )
    assert item_of_line(line) == {
        "pk": {"S": "x"},
        "quoted name": {"N": "1"},
        "f": {"N": "2.5"},
        "d": {"N": "0.01"},
        "n": {"NULL": True},
        "s": {"SS": ["a"]},
        "b": {"B": "AQ=="},
    }
    assert item_of_line("") is None
    assert item_of_line("$ion_1_0") is None


@pytest.mark.parametrize(
    "line",
    [
        '{Item:{pk:"x"}',  # unterminated
        '{pk:"x"}',  # no Item
        "{Item:{}}",  # no attributes
        '{Item:{pk:"x"}} {Item:{pk:"y"}}',  # two values
        "{Item:{s:$dynamodb_SS::[1d0]}}",  # a string set of numbers
        '{Item:{s:$other::["a"]}}',  # an unknown annotation
        "{Item:{b:{{not base64!}}}}",
        "{Item:{pk:sym}}",  # a symbol value
        '{Item:{pk:"bad \\q escape"}}',
        "[" * 40 + "]" * 40,
    ],
)
def test_lines_that_are_not_items_are_refused(line: str) -> None:
    with pytest.raises(IonError):
        item_of_line(line)
