"""Installs nlaic_tf and the `nlaic` command: pip install -e '.[test]'.

The codec (compress, decompress, info, demo, export.py, train.py) needs only
install_requires; the evaluation harness (`nlaic evaluate`, `bdrate`,
`summary`: BD-rates, plots, the HEVC comparison codec) also needs the `eval`
extra: pip install 'nlaic_tf[eval]'. The `test` extra includes it.

A wheel (`pip wheel .`) also carries the pretrained models (the SavedModel and
model.json of each folder in saved_models/, not their TFLite files) as
nlaic_tf/saved_models/ and the demo image as nlaic_tf/assets/, so that
`nlaic_tf.zoo.load_codec("nlaic-mse")` and `nlaic demo` work offline from any
folder (see nlaic_tf/resources.py).
"""
import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(r'^__version__ = "([^"]+)"',
                    (HERE / "nlaic_tf" / "__init__.py").read_text(encoding="utf-8"),
                    re.MULTILINE).group(1)

# The evaluation harness only (nlaic_tf.cli.errors.require_eval_extra names them).
EVAL_REQUIRES = [
    "pillow-heif>=1.0",      # HEIC: libheif with x265 and libde265 (the hevc codec).
    "scipy>=1.10",           # PCHIP interpolation for BD-rate.
    "matplotlib>=3.7",       # rate-distortion plots.
]

setup(
    name="nlaic_tf",
    version=VERSION,
    description="Learned image codec with non-local attention and a 3D context model "
                "(NLAIC), in TensorFlow, with an evaluation harness",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["nlaic_tf", "nlaic_tf.*"]) + [
        "nlaic_tf.saved_models", "nlaic_tf.assets"],
    package_dir={"nlaic_tf.saved_models": "saved_models", "nlaic_tf.assets": "assets"},
    package_data={
        "nlaic_tf.evaluation": ["published/*.json"],
        "nlaic_tf.saved_models": ["*/saved_model.pb", "*/fingerprint.pb", "*/model.json",
                                  "*/variables/*"],
        "nlaic_tf.assets": ["demo.png"],
    },
    python_requires=">=3.11,<3.12",
    install_requires=[
        "tensorflow==2.14.1",
        "tensorflow-compression==2.14.1",
        "tensorflow-probability==0.22.1",
        "numpy<2",
        "absl-py",
        "Pillow>=11.3",          # JPEG, JPEG 2000, WebP and AVIF (built-in since 11.3).
        "imagecodecs>=2024.1.1",  # 16-bit PNG/TIFF input at full precision.
        "tqdm>=4.60",            # progress bars of nlaic compress/decompress/evaluate.
    ],
    extras_require={
        "eval": EVAL_REQUIRES,
        # The suite runs in 2 processes and tests the evaluation harness too.
        "test": ["pytest", "pytest-xdist>=3.6"] + EVAL_REQUIRES,
    },
    entry_points={"console_scripts": ["nlaic=nlaic_tf.cli:main"]},
)
