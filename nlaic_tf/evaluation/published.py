"""Published Kodak rate-distortion points of learned codecs (and BPG), for comparison.

Each JSON file in the `published/` folder holds one curve: name, label, paper,
source (where the numbers were copied from), notes, and equal-length lists
bpp, psnr (RGB, dB) and optionally ms_ssim (RGB, 0..1).
"""
import json
from importlib import resources
from typing import Dict, List, Sequence

from nlaic_tf.evaluation.curves import RDCurve, make_curve


def _load_all() -> Dict[str, RDCurve]:
  curves = {}
  for entry in sorted(resources.files(__package__).joinpath("published").iterdir(),
                      key=lambda e: e.name):
    if not entry.name.endswith(".json"):
      continue
    data = json.loads(entry.read_text(encoding="utf-8"))
    curves[data["name"]] = make_curve(
        data["name"], data["label"], data["bpp"], data["psnr"], data.get("ms_ssim"),
        source=f"{data['paper']} Numbers from {data['source']}")
  return curves


def published_names() -> List[str]:
  """Names of the published curves, e.g. ["balle2018", "bpg444", "cheng2020", ...]."""
  return sorted(_load_all())


def load_published(names: Sequence[str]) -> List[RDCurve]:
  """The published curves called `names` ("all" selects every one).

  Raises:
    ValueError: an unknown name (the message lists the known ones).
  """
  curves = _load_all()
  if list(names) == ["all"]:
    return list(curves.values())
  unknown = [n for n in names if n not in curves]
  if unknown:
    raise ValueError(f"unknown published curve(s): {', '.join(unknown)}; "
                     f"known: {', '.join(sorted(curves))}, or all")
  return [curves[n] for n in names]
