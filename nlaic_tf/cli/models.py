"""List the pretrained models that --model (and nlaic_tf.zoo.load_codec) accept by name.

examples:
  nlaic models
"""
NAME = "models"
HELP = "list the pretrained models and where they are"


def add_arguments(parser) -> None:
  del parser  # No options.


def run(args) -> int:
  from nlaic_tf import zoo

  for name, model in zoo.PRETRAINED.items():
    default = "  (default)" if name == zoo.DEFAULT_MODEL else ""
    try:
      found = f"model {zoo.read_model_info(name)['model_id']}"
    except (OSError, ValueError, KeyError):
      found = "MISSING: no model.json there"
    print(f"{name}{default}: {model.description}\n"
          f"  trained for: {model.distortion}\n"
          f"  folder:      {zoo.model_dir(name)} ({found})")
  return 0
