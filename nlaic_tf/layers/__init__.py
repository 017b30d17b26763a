"""Keras layers of NLAIC: residual blocks, non-local attention, masked 3D
convolution and per-rate-level modulation."""
from nlaic_tf.layers.masked_conv3d import MaskedConv3D
from nlaic_tf.layers.nlam import NLAM
from nlaic_tf.layers.nonlocal_block import NonLocalBlock
from nlaic_tf.layers.rate_modulation import RateModulation
from nlaic_tf.layers.resblock import ResidualBlock

__all__ = ["MaskedConv3D", "NLAM", "NonLocalBlock", "RateModulation",
           "ResidualBlock"]
