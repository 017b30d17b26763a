"""Entropy models: the 3D context + hyperprior model for y and its wavefront coder."""
from nlaic_tf.entropy.context_model import ContextModel
from nlaic_tf.entropy.gaussian import ScaleTable, gaussian_bits
from nlaic_tf.entropy.wavefront import WavefrontSchedule, code_latents

__all__ = ["ContextModel", "ScaleTable", "gaussian_bits", "WavefrontSchedule",
           "code_latents"]
