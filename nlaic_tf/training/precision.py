"""Training precision: which Keras mixed-precision policy the transforms use.

Imports no TensorFlow at module level, so `train.py --help` stays fast.
"""
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


def cpu_has_bf16(cpuinfo="/proc/cpuinfo"):
  """True if the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16)."""
  try:
    with open(cpuinfo) as f:
      flags = f.read()
  except OSError:
    return False
  return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision):
  """`precision` (one of PRECISIONS) -> a Keras policy name.

  auto: mixed_float16 (with loss scaling) when a GPU is visible, else
  mixed_bfloat16 on CPUs that compute bfloat16 natively, else float32.
  """
  if precision not in PRECISIONS:
    raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
  if precision != "auto":
    return precision
  import tensorflow as tf
  if tf.config.list_physical_devices("GPU"):
    return "mixed_float16"
  return "mixed_bfloat16" if cpu_has_bf16() else "float32"
