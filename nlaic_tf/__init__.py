"""nlaic_tf: learned image compression with non-local attention and a 3D context model.

Importing the package is cheap: TensorFlow is only imported by the modules that
need it (the model, the codec, and the MS-SSIM metric), never here.
"""

__version__ = "0.2.0"

_API = ("compress", "decompress", "compress_to_bpp")


def __getattr__(name):
  """`nlaic_tf.compress` / `decompress` / `compress_to_bpp` from `nlaic_tf.api`
  and `register_pillow` (`nlaic_tf.pillow.register`), on first use."""
  if name in _API:
    from nlaic_tf import api
    return getattr(api, name)
  if name == "register_pillow":  # Image.open / save of .nlaic files; no TensorFlow
    from nlaic_tf import pillow
    return pillow.register
  raise AttributeError(f"module 'nlaic_tf' has no attribute {name!r}")
