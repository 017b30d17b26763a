"""Model configurations: widths, block counts, NLAM positions, context and rate levels."""
import dataclasses
import json
from typing import Optional, Tuple

from nlaic_tf.models.losses import DISTORTIONS

# Rate-distortion trade-offs of the rate levels: loss = lambda * D + bpp
# (`RateDistortionLoss`, with D in the units of 255^2 * MSE for both measures).
# Geometric, about x2.5 per level, chosen to span 0.04 to beyond 1 bpp on Kodak.
DEFAULT_LAMBDAS = (0.0002, 0.0005, 0.00125, 0.0031, 0.0078, 0.0194, 0.0483,
                   0.12)

# The medium configuration's levels: x2.5 per level from 0.0004 to 0.244, so
# that the top level reaches the high fidelity the wider transforms allow.
MEDIUM_LAMBDAS = tuple(round(0.0004 * 2.5 ** k, 6) for k in range(8))


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """A model's configuration: its architecture, rate levels, training
  objective and range-coding scales. Export records it in model.json; `zoo`
  rebuilds a model from it and its weights.

  Not all of it is architecture. The architecture fields fix the weights'
  shapes. `lambdas` sets the rate levels: their number fixes the gains'
  shape, their values only the training objective. `distortion` is the
  objective's distortion measure, not architecture: the same weights
  fine-tune from one measure to the other (`transfer_weights`). The two make
  the objective, `RateDistortionLoss.for_config`. num_scales, scale_min and
  scale_max set the range coder's table of scales.

  Resolutions are named by their downsampling factor: the latent y lives at
  H/16 with `latent_channels` channels, the hyper-latent z at H/64.
  """
  name: str = "small"
  main_filters: int = 96            # N: width of the main transforms
  latent_channels: int = 128        # M: channels of y
  hyper_filters: int = 64           # width of the hyper transforms
  hyper_latent_channels: int = 64   # channels of z
  encoder_blocks: Tuple[int, ...] = (1, 1, 1)   # residual blocks at H/2, H/4, H/8
  decoder_blocks: Tuple[int, ...] = (1, 1, 1)   # residual blocks at H/2, H/4, H/8
  hyper_blocks: int = 1             # residual blocks per hyper stage
  nlam_blocks: int = 2              # residual blocks in NLAM trunk and mask
  nlam_factors: Tuple[int, ...] = (16,)  # main-transform NLAM positions (4, 8, 16)
  # Per-level channel-wise scale and bias inside the main transforms
  # (`RateModulation`), so that the transforms can differ between levels.
  rate_conditioned: bool = False
  hyper_nlam: bool = True           # NLAM in the hyper analysis (at H/64)
  # NLAM in the hyper synthesis too. Off keeps every layer that decides the
  # coding distributions (hyper synthesis, context, MLP) to convolutions and
  # ReLUs, which an integer implementation computes exactly on any machine.
  hyper_synthesis_nlam: bool = True
  nonlocal_block_size: Optional[int] = 16  # sparse non-local window; None = dense
  context_kernel: int = 5           # 3D masked conv kernel (k x k x k); 1 = none
  context_filters: int = 24         # features of the 3D masked conv
  hyper_features: int = 2           # hyperprior features per latent element
  context_hidden: Tuple[int, ...] = (48, 96)  # pointwise MLP widths
  lambdas: Tuple[float, ...] = DEFAULT_LAMBDAS  # one per rate level
  # What the levels trade bits against: "mse" or "ms-ssim" (`DISTORTIONS`).
  distortion: str = "mse"
  num_scales: int = 64              # Gaussian scale tables for range coding
  scale_min: float = 0.11
  scale_max: float = 256.

  def __post_init__(self):
    if self.distortion not in DISTORTIONS:
      raise ValueError(f"distortion must be one of {DISTORTIONS}, got {self.distortion!r}")

  @property
  def num_levels(self):
    return len(self.lambdas)

  def to_json(self):
    return json.dumps(dataclasses.asdict(self), sort_keys=True)

  @classmethod
  def from_json(cls, text):
    return cls.from_dict(json.loads(text))

  @classmethod
  def from_dict(cls, fields):
    return cls(**{key: tuple(value) if isinstance(value, list) else value
                  for key, value in fields.items()})


CONFIGS = {
    # Shipped configuration: trainable on 2 CPU cores.
    "small": ModelConfig(),
    # Baseline for benchmarks: the same widths as "small" without NLAMs and
    # without the 3D context (context_kernel 1 has no causal taps): a
    # mean-scale hyperprior.
    "small-hyperprior": ModelConfig(name="small-hyperprior", nlam_factors=(),
                                    hyper_synthesis_nlam=False,
                                    hyper_nlam=False, context_kernel=1),
    # Narrower variant for the configuration comparison.
    "narrow": ModelConfig(name="narrow", main_filters=64, latent_channels=96,
                          hyper_filters=64, hyper_latent_channels=48),
    # Wider transforms with the capacity for high rates (levels from about
    # 0.07 to beyond 1.5 bpp on Kodak), trained from scratch; no NLAM in the
    # hyper synthesis (see hyper_synthesis_nlam).
    "medium": ModelConfig(
        name="medium", main_filters=128, latent_channels=192, hyper_filters=128,
        hyper_latent_channels=96, hyper_synthesis_nlam=False,
        lambdas=MEDIUM_LAMBDAS),
    # "medium" with rate-conditioned main transforms.
    "medium-rc": ModelConfig(
        name="medium-rc", main_filters=128, latent_channels=192,
        hyper_filters=128, hyper_latent_channels=96,
        hyper_synthesis_nlam=False, rate_conditioned=True,
        lambdas=MEDIUM_LAMBDAS),
    # The paper's widths (M=192, N2=128, 3-block NLAMs, NLAMs at H/4 and H/16,
    # 11x11x11 context); far too heavy to train here.
    "paper": ModelConfig(
        name="paper", main_filters=192, latent_channels=192, hyper_filters=192,
        hyper_latent_channels=128, encoder_blocks=(3, 3, 3),
        decoder_blocks=(3, 3, 3), hyper_blocks=2, nlam_blocks=3,
        nlam_factors=(4, 16), context_kernel=11, hyper_features=1),
    # For tests: seconds per step on small crops.
    "tiny": ModelConfig(
        name="tiny", main_filters=8, latent_channels=8, hyper_filters=8,
        hyper_latent_channels=4, nlam_blocks=1, context_kernel=3,
        context_filters=4, context_hidden=(8,), lambdas=(0.004, 0.03),
        nonlocal_block_size=2, num_scales=32),
}
# "medium-rc" with a second residual block at H/4 and H/8 in both main
# transforms: 1.2 M more parameters for 2 % of the training speed
# (docs/benchmarks.md). Trained from medium-rc weights with --init_from (the
# added blocks start as identities) to measure whether the transforms' depth
# limits the top levels (issue 35).
CONFIGS["medium-rc-deep"] = dataclasses.replace(
    CONFIGS["medium-rc"], name="medium-rc-deep", encoder_blocks=(1, 2, 2),
    decoder_blocks=(1, 2, 2))
# "medium-rc" with 256 latent channels instead of 192 (the paper's high-rate
# models use M=256): for the top levels, where the transforms' ceiling limits
# the PSNR (issue 35). A block KLT of the validation crops reaches 36.2 dB
# with 0.75 coefficients per pixel (192 at H/16) and 42.0 dB with 1.0
# (`scripts/linear_bound.py`). Trained from medium-rc weights with
# --init_from (the added channels start silent: `transfer_weights`).
CONFIGS["medium-rc-wide"] = dataclasses.replace(
    CONFIGS["medium-rc"], name="medium-rc-wide", latent_channels=256)
# For tests and the golden files: `tiny` without the hyper-synthesis NLAM, so
# that its entropy parameters have an integer form (`supports_integer`).
CONFIGS["tiny-int"] = dataclasses.replace(CONFIGS["tiny"], name="tiny-int",
                                          hyper_synthesis_nlam=False)


def get_config(name):
  try:
    return CONFIGS[name]
  except KeyError:
    raise ValueError(
        f"unknown model configuration {name!r}; choose from {sorted(CONFIGS)}"
    ) from None
