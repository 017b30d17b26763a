"""Keras layers of NLAIC: residual blocks, non-local attention, masked 3D
convolution, per-rate-level modulation and a bounded-memory stride-2
transposed convolution."""
from nlaic_tf.layers.masked_conv3d import MaskedConv3D
from nlaic_tf.layers.nlam import NLAM
from nlaic_tf.layers.nonlocal_block import NonLocalBlock
from nlaic_tf.layers.rate_modulation import RateModulation
from nlaic_tf.layers.resblock import ResidualBlock
from nlaic_tf.layers.subpixel_deconv import SubpixelConv2DTranspose

__all__ = ["MaskedConv3D", "NLAM", "NonLocalBlock", "RateModulation",
           "ResidualBlock", "SubpixelConv2DTranspose"]
