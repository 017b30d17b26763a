"""File input and output shared by every command: image reading and atomic writes."""
from nlaic_tf.io.atomic import atomic_write, atomic_write_bytes
from nlaic_tf.io.images import ImageReadError, find_images, read_image, save_png

__all__ = [
    "ImageReadError",
    "atomic_write",
    "atomic_write_bytes",
    "find_images",
    "read_image",
    "save_png",
]
