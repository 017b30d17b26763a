"""The versioned nlaic container. `format`: layout and a pure-Python reader;
`container`: TensorFlow packing and parsing (imported by the codec)."""
from nlaic_tf.bitstream.format import (HEADER_SIZE, MAGIC, VERSION,
                                       BitstreamError, Header, read_header)

__all__ = ["HEADER_SIZE", "MAGIC", "VERSION", "BitstreamError", "Header",
           "read_header"]
