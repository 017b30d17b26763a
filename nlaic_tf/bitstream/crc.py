"""CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): tables and a
pure-Python reference.

The CRC register is linear over GF(2): `shift_columns` gives, for every power
of two 2^k, the images of the 32 register bits after 2^k zero bytes, which is
what `container.crc32c` needs to combine the CRCs of blocks in parallel with
TensorFlow ops.
"""
import numpy as np

POLYNOMIAL = 0x82F63B78
MASK = 0xFFFFFFFF


def _byte_table():
  table = []
  for byte in range(256):
    crc = byte
    for _ in range(8):
      crc = (crc >> 1) ^ (POLYNOMIAL if crc & 1 else 0)
    table.append(crc)
  return table


BYTE_TABLE = _byte_table()


def _zero_byte(register):
  """Register after one zero byte."""
  return BYTE_TABLE[register & 0xFF] ^ (register >> 8)


def _apply(columns, register):
  value = 0
  for bit in range(32):
    if register >> bit & 1:
      value ^= columns[bit]
  return value


def shift_columns(num_powers=48):
  """int64 [num_powers, 32]: row k, column i = register bit i after 2^k zero bytes."""
  columns = [_zero_byte(1 << bit) for bit in range(32)]
  rows = [columns]
  for _ in range(num_powers - 1):
    columns = [_apply(columns, value) for value in columns]  # squared
    rows.append(columns)
  return np.asarray(rows, np.int64)


def crc32c(data, crc=0):
  """CRC-32C of `data` (bytes), continuing from a previous `crc`."""
  register = crc ^ MASK
  table = BYTE_TABLE
  for byte in data:
    register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
  return register ^ MASK
