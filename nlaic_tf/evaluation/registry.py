"""Every codec the harness and the `nlaic` commands know, by name.

The conventional codecs (`codecs`) first, in the order tables and plots list
them, then the learned ones (`learned_codec`). The registry sits above both
modules so that neither imports the other: `learned_codec` builds on the
`Codec` interface of `codecs`, and only this module puts them side by side.
A folder written by export.py is a codec too, named by its path, so that an
own model is measured beside the shipped ones (`nlaic evaluate --codecs
nlaic,runs/my-model/export`). Importing it loads no TensorFlow (the learned
codecs load their model on first use).
"""
import os
from typing import Dict, List, Sequence

from nlaic_tf.evaluation.codecs import CONVENTIONAL, Codec
from nlaic_tf.evaluation.learned_codec import NlaicCodec, learned_codecs

_REGISTRY: Dict[str, Codec] = {}


def register_codec(codec: Codec, replace: bool = False) -> Codec:
  """Adds a codec to the registry under `codec.name`; returns it.

  Raises:
    ValueError: the name is taken and `replace` is False.
  """
  if codec.name in _REGISTRY and not replace:
    raise ValueError(f"a codec named {codec.name!r} is already registered")
  _REGISTRY[codec.name] = codec
  return codec


def get_codec(name: str) -> Codec:
  """The registered codec called `name`, else the exported model in the folder
  `name` (one with a saved_model.pb) under that name; ValueError listing the
  names if neither."""
  if name in _REGISTRY:
    return _REGISTRY[name]
  if os.path.isfile(os.path.join(name, "saved_model.pb")):
    return NlaicCodec(model_dir=name, name=name)
  raise ValueError(f"unknown codec {name!r}; known codecs: "
                   f"{', '.join(codec_names())}, or the folder of an export")


def codec_names() -> List[str]:
  """Names of all registered codecs, in registration order."""
  return list(_REGISTRY)


def get_codecs(names: Sequence[str]) -> List[Codec]:
  """The codecs called `names`, in that order."""
  return [get_codec(name) for name in names]


for _codec in CONVENTIONAL + learned_codecs():
  register_codec(_codec)
