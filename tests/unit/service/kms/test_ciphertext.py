"""The ciphertext blob and sealed table values: round trips, context binding, damage."""

from __future__ import annotations

import os
import uuid

import pytest

from strata.errors import DataCorruption
from strata.service.kms import ciphertext
from strata.service.kms.errors import InvalidCiphertext
from strata.service.tables import sealing


def test_blob_names_its_key_and_version() -> None:
    material, key_id = os.urandom(32), str(uuid.uuid4())
    blob = ciphertext.seal(material, key_id, 3, b"data", {"a": "1"})
    assert ciphertext.key_of(blob) == (key_id, 3)
    assert len(blob) == ciphertext.OVERHEAD_BYTES + 4
    assert ciphertext.open_blob(material, blob, {"a": "1"}) == b"data"


@pytest.mark.parametrize("context", [None, {}, {"a": "2"}, {"a": "1", "b": ""}, {"A": "1"}])
def test_another_context_does_not_open(context: dict[str, str] | None) -> None:
    material = os.urandom(32)
    blob = ciphertext.seal(material, str(uuid.uuid4()), 0, b"data", {"a": "1"})
    with pytest.raises(InvalidCiphertext):
        ciphertext.open_blob(material, blob, context)


def test_context_pairs_cannot_be_regrouped() -> None:
    # Length prefixes: {"ab": "c"} and {"a": "bc"} are different associated data.
    assert ciphertext.context_bytes({"ab": "c"}) != ciphertext.context_bytes({"a": "bc"})


def test_any_flipped_byte_fails() -> None:
    material, key_id = os.urandom(32), str(uuid.uuid4())
    blob = ciphertext.seal(material, key_id, 0, b"data", None)
    for position in range(1, len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x40
        with pytest.raises(InvalidCiphertext):
            ciphertext.open_blob(material, bytes(damaged), None)
    with pytest.raises(InvalidCiphertext):
        ciphertext.key_of(b"\x02" + blob[1:])
    with pytest.raises(InvalidCiphertext):
        ciphertext.key_of(blob[:20])


def test_sealed_values_open_and_fail_on_damage() -> None:
    key_id = sealing.new_key_id()
    opened: list[int] = []

    def open_key() -> bytes:
        opened.append(1)
        return b"k" * 32

    now = [1000.0]
    sealing.KEYS.register(key_id, open_key, lambda: now[0])
    value = sealing.seal(key_id, 77, b'{"a":{"S":"x"}}')
    assert value[0] == sealing.SEALED_FORMAT
    assert sealing.sealed_stamp(value) == 77
    assert sealing.open_sealed(value) == b'{"a":{"S":"x"}}'
    assert len(opened) == 1  # opened once, then cached
    now[0] += sealing.RECHECK_S + 1
    sealing.open_sealed(value)
    assert len(opened) == 2  # checked again a minute of store clock later
    damaged = bytearray(value)
    damaged[-1] ^= 1
    with pytest.raises(DataCorruption):
        sealing.open_sealed(bytes(damaged))


def test_nonces_never_repeat() -> None:
    nonces = sealing._Nonces()
    taken = {nonces.take() for _ in range(10000)}
    assert len(taken) == 10000
    nonces._next = 1 << 32  # the counter's end: a new random prefix
    assert nonces.take()[:8] != next(iter(taken))[:8]
