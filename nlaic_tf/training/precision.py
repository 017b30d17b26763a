"""Training precision: which Keras mixed-precision policy the transforms use.

Imports no TensorFlow at module level, so `train.py --help` stays fast.
"""
import warnings

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


def cpu_has_bf16(cpuinfo="/proc/cpuinfo"):
  """True if the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16)."""
  try:
    with open(cpuinfo) as f:
      flags = f.read()
  except OSError:
    return False
  return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision, cpuinfo="/proc/cpuinfo"):
  """`precision` (one of PRECISIONS) -> a Keras policy name.

  auto: mixed_float16 (with loss scaling) when a GPU is visible, else
  mixed_bfloat16 on CPUs that compute bfloat16 natively, else float32.
  An explicit mixed_bfloat16 on a CPU-only machine without native bfloat16
  warns: TensorFlow then emulates it, measured 12x slower than float32 (the
  `medium` configuration on a 2-core AVX2 CPU: 0.03 against 0.35 steps/s).
  """
  if precision not in PRECISIONS:
    raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
  if precision == "auto" or precision == "mixed_bfloat16":
    import tensorflow as tf
    gpu = bool(tf.config.list_physical_devices("GPU"))
    native_bf16 = cpu_has_bf16(cpuinfo)
  if precision == "mixed_bfloat16" and not gpu and not native_bf16:
    warnings.warn(
        "--precision mixed_bfloat16 on a CPU without native bfloat16 "
        "(no avx512_bf16 or amx_bf16 in /proc/cpuinfo): TensorFlow emulates "
        "it, many times slower than float32; use --precision auto or float32",
        RuntimeWarning, stacklevel=2)
  if precision != "auto":
    return precision
  if gpu:
    return "mixed_float16"
  return "mixed_bfloat16" if native_bf16 else "float32"
