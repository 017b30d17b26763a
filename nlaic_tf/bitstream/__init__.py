"""The versioned nlaic container: header layout, TF packing/parsing, Python header reader."""
from nlaic_tf.bitstream.container import (HEADER_SIZE, MAGIC, VERSION,
                                          BitstreamError, Header, pack,
                                          read_header, unpack)

__all__ = ["HEADER_SIZE", "MAGIC", "VERSION", "BitstreamError", "Header",
           "pack", "read_header", "unpack"]
