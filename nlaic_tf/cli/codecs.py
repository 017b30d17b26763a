"""List the registered codecs: settings, meaning of quality, default grid, availability."""

NAME = "codecs"
HELP = "list the codecs `nlaic evaluate` can run"


def add_arguments(parser) -> None:
  del parser  # No options.


def run(args) -> int:
  from nlaic_tf.evaluation.registry import codec_names, get_codec

  for name in codec_names():
    codec = get_codec(name)
    reason = codec.unavailable_reason()
    print(f"{name}: {codec.label}{'' if reason is None else f'  [unavailable: {reason}]'}")
    print(f"  settings:  {codec.settings}")
    print(f"  quality:   {codec.quality_help}")
    print(f"  default:   {', '.join(f'{q:g}' for q in codec.qualities)}")
  return 0
