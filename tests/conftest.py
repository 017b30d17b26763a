"""Shared test fixtures: small smooth synthetic images, a tiny codec and its export."""
import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from PIL import Image


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
  """A uint8 HxWx3 image with smooth structure (like a photo, unlike noise).

  A coarse random grid of colours is upsampled bicubically, plus faint texture,
  so that codecs compress it to realistic rates.
  """
  rng = np.random.default_rng(seed)
  coarse = rng.integers(20, 236, size=(max(2, height // 24), max(2, width // 24), 3),
                        dtype=np.uint8)
  smooth = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.BICUBIC),
                      dtype=np.float64)
  texture = rng.normal(0.0, 3.0, size=(height, width, 1))
  return np.clip(np.rint(smooth + texture), 0, 255).astype(np.uint8)


def tiny_integer_config():
  """The tiny configuration without the hyper-synthesis NLAM, so that its
  entropy parameters have an integer form (`supports_integer`)."""
  from nlaic_tf.models import get_config
  return dataclasses.replace(get_config("tiny"), name="tiny-int",
                             hyper_synthesis_nlam=False)


@pytest.fixture
def make_image():
  """The `smooth_image` factory: make_image(height, width, seed=0)."""
  return smooth_image


@pytest.fixture(scope="session")
def tiny_codec():
  """An NLAICCodec around the "tiny" configuration with random weights."""
  from nlaic_tf.zoo import build_codec
  return build_codec("tiny")


@pytest.fixture(scope="session")
def exported(tiny_codec, tmp_path_factory):
  """Directory of an export of the tiny codec (checks are run by the tests)."""
  from nlaic_tf import export_lib
  out = str(tmp_path_factory.mktemp("export") / "nlaic_tiny")
  export_lib.export(tiny_codec, out, tflite=True, check=False, log=lambda _: None)
  return out


@pytest.fixture(scope="session")
def loaded(exported):
  """The exported tiny codec, loaded back as the CLI loads it."""
  from nlaic_tf import zoo
  return zoo.load_codec(exported)
