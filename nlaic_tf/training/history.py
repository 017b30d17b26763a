"""Reading the validation records train.py appends to `<workdir>/history.jsonl`
(one JSON object a line: step, loss, levels, best, ...). No TensorFlow."""
import json


def read_history(path):
  """Validation records of one run, in step order."""
  with open(path) as f:
    return sorted((json.loads(line) for line in f if line.strip()), key=lambda r: r["step"])
