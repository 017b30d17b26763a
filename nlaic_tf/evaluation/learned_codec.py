"""The learned codec in the evaluation harness: "nlaic", with encoder-side
latent refinement "nlaic-refined", and every other pretrained model under its
own name (`nlaic-msssim`, `nlaic-small`); `registry` lists them by name.

Files are the real .nlaic containers written by the exported SavedModel
("nlaic": $NLAIC_MODEL, else the default pretrained model); the grid is every
trained rate level. TensorFlow is loaded on first use, not at import.
"""
from typing import Optional, Tuple

import numpy as np

from nlaic_tf import api, zoo
from nlaic_tf.evaluation.codecs import Codec


# Refinement steps of the "nlaic-refined" entry.
EVALUATION_REFINE_STEPS = 20


class NlaicCodec(Codec):
  quality_help = "rate level 0 (smallest) .. levels-1; fractional values interpolate"
  integer_quality = False

  def __init__(self, model_dir: Optional[str] = None, refine_steps: int = 0,
               name: Optional[str] = None):
    """model_dir: as `zoo.model_dir`; name: the registry name (default
    "nlaic", or "nlaic-refined" with refine_steps)."""
    self._model_dir = model_dir
    self._codec = None
    self.refine_steps = int(refine_steps)
    if self.refine_steps:
      self.name = name or "nlaic-refined"
      self.label = f"NLAIC, {self.refine_steps} refinement steps (ours)"
    else:
      self.name = name or "nlaic"
      self.label = f"NLAIC {name} (ours)" if name else "NLAIC (ours)"

  @property
  def model_dir(self) -> str:
    return zoo.model_dir(self._model_dir)

  def _num_levels(self) -> int:
    """Trained rate levels per the model's model.json; 0 if it has none."""
    try:
      return len(zoo.read_model_info(self.model_dir)["config"]["lambdas"])
    except (OSError, ValueError, KeyError):
      return 0

  @property
  def settings(self) -> str:
    refined = (f", {self.refine_steps} steps of encoder-side latent refinement"
               if self.refine_steps else "")
    return f"SavedModel {self.model_dir}, wavefront 3D context decoding{refined}"

  @property
  def qualities(self):
    return tuple(float(l) for l in range(self._num_levels()))

  @property
  def quality_range(self):
    return (0., float(max(0, self._num_levels() - 1)))

  def unavailable_reason(self) -> Optional[str]:
    if not self._num_levels():
      return f"no exported nlaic model at {self.model_dir} (run export.py)"
    return None

  def _loaded(self):
    if self._codec is None:
      self._codec = zoo.load_codec(self.model_dir)
    return self._codec

  def _encode(self, image: np.ndarray, quality) -> bytes:
    return api.compress(image, quality, self._loaded(), self.refine_steps)

  def _decode(self, data: bytes) -> np.ndarray:
    return api.decompress(data, self._loaded())

  def __getstate__(self):  # worker processes load their own copy
    return dict(self.__dict__, _codec=None)


def learned_codecs() -> Tuple[NlaicCodec, ...]:
  """The learned codecs: "nlaic", "nlaic-refined", then every other
  pretrained model under its name."""
  others = tuple(NlaicCodec(model_dir=name, name=name)
                 for name in zoo.PRETRAINED if name != zoo.DEFAULT_MODEL)
  return (NlaicCodec(), NlaicCodec(refine_steps=EVALUATION_REFINE_STEPS)) + others
