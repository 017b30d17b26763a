"""Non-local attention module (NLAM)."""
import tensorflow as tf

from nlaic_tf.layers.nonlocal_block import NonLocalBlock
from nlaic_tf.layers.resblock import ResidualBlock


@tf.keras.utils.register_keras_serializable(package="nlaic")
class NLAM(tf.keras.layers.Layer):
  """`x + trunk(x) * sigmoid(mask(x))`.

  trunk: `num_blocks` residual blocks. mask: non-local block -> `num_blocks`
  residual blocks -> 1x1 conv -> sigmoid. The mask weighs features (and so
  bits) per position and channel without any side information.

  Input and output: [B, H, W, filters].
  """

  def __init__(self, filters, num_blocks=3, block_size=None, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.num_blocks = int(num_blocks)
    self.block_size = block_size
    self.trunk = [ResidualBlock(self.filters, name=f"trunk_{i}")
                  for i in range(self.num_blocks)]
    self.nonlocal_block = NonLocalBlock(
        self.filters, block_size=block_size, name="nonlocal")
    self.mask = [ResidualBlock(self.filters, name=f"mask_{i}")
                 for i in range(self.num_blocks)]
    self.mask_out = tf.keras.layers.Conv2D(self.filters, 1, name="mask_out")

  def call(self, x):
    trunk = x
    for block in self.trunk:
      trunk = block(trunk)
    mask = self.nonlocal_block(x)
    for block in self.mask:
      mask = block(mask)
    mask = tf.sigmoid(self.mask_out(mask))
    return x + trunk * mask

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                num_blocks=self.num_blocks, block_size=self.block_size)
