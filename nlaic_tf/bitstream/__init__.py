"""The versioned nlaic container. `format`: layouts and a pure-Python reader;
`container`: TensorFlow packing and parsing (imported by the codec); `crc`:
CRC-32C tables and reference."""
from nlaic_tf.bitstream.format import (HEADER_SIZE, MAGIC, VERSION,
                                       BitstreamError, Header, read_header)

__all__ = ["HEADER_SIZE", "MAGIC", "VERSION", "BitstreamError", "Header",
           "read_header"]
