"""nlaic_tf: learned image compression with non-local attention and a 3D context model.

Importing the package is cheap: TensorFlow is only imported by the modules that
need it (the model, the codec, and the MS-SSIM metric), never here.
"""

__version__ = "0.1.0"
