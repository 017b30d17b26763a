"""Imports inside nlaic_tf point down the layers, and no modules import each other.

The layers, lowest first (a module may import from its own layer or any
layer below it, never from one above):

  base        io, bitstream, metrics, resources, snapshot: files, formats
              and image metrics, none of which knows a model
  layers      Keras layers
  transforms  the analysis and synthesis transforms (and their tiling)
  entropy     entropy models, range coding, integer entropy parameters
  models      configurations, the NLAIC model, its loss, the codec
  zoo         building and loading models (zoo), exporting them (export_lib)
  api         the Python API, the Pillow plugin, and the package itself
              (`nlaic_tf.compress`)
  training    input pipelines (data) and the training loop (training)
  evaluation  metrics over codecs: registry, learned and conventional codecs,
              harness, reports
  cli         the `nlaic` command

Every module is parsed with `ast`, nothing is imported (so no TensorFlow):
imports at module level and inside functions count alike. An import names a
module (`from nlaic_tf.models import config`), else the package or module
it takes names from (`from nlaic_tf.models import NLAIC` imports the
package `nlaic_tf.models`). The implicit import of a module's parent
packages is not counted. Imports within a layer are allowed as long as they
form no cycle.
"""
import ast
from pathlib import Path

PACKAGE = "nlaic_tf"
ROOT = Path(__file__).resolve().parent.parent

# (layer, modules or packages in it), lowest first. The package itself
# (`nlaic_tf/__init__.py`) belongs to "api" by its exact name only.
LAYERS = (
    ("base", ("nlaic_tf.io", "nlaic_tf.bitstream", "nlaic_tf.metrics",
              "nlaic_tf.resources", "nlaic_tf.snapshot")),
    ("layers", ("nlaic_tf.layers",)),
    ("transforms", ("nlaic_tf.transforms",)),
    ("entropy", ("nlaic_tf.entropy",)),
    ("models", ("nlaic_tf.models",)),
    ("zoo", ("nlaic_tf.zoo", "nlaic_tf.export_lib")),
    ("api", ("nlaic_tf.api", "nlaic_tf.pillow", "nlaic_tf")),
    ("training", ("nlaic_tf.data", "nlaic_tf.training")),
    ("evaluation", ("nlaic_tf.evaluation",)),
    ("cli", ("nlaic_tf.cli", "nlaic_tf.__main__")),
)


def package_modules(root=ROOT):
  """{module name: path} of every module of the package under `root`."""
  modules = {}
  for path in sorted((root / PACKAGE).rglob("*.py")):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
      parts.pop()
    modules[".".join(parts)] = path
  return modules


def _imported(name, modules):
  """The module that `name` stands for: itself, else its longest prefix that
  is a module of the package."""
  while name not in modules and "." in name:
    name = name.rpartition(".")[0]
  return name


def import_edges(modules):
  """[(importer, imported, line)] of every import of a package module, sorted."""
  edges = set()
  for module, path in modules.items():
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
      targets = []
      if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
      elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: from the module's package upwards
          package = module if is_package else module.rpartition(".")[0]
          for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
          base = f"{package}.{base}" if base else package
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
                   else base for alias in node.names]
      for target in targets:
        if target == PACKAGE or target.startswith(PACKAGE + "."):
          imported = _imported(target, modules)
          if imported != module:
            edges.add((module, imported, node.lineno))
  return sorted(edges)


def layer_of(module):
  """Index in LAYERS of the layer that `module` belongs to, or None."""
  for index, (_, members) in enumerate(LAYERS):
    if module in members:
      return index
  best = None
  for index, (_, members) in enumerate(LAYERS):
    for member in members:
      if member != PACKAGE and module.startswith(member + "."):
        if best is None or len(member) > len(best[1]):
          best = (index, member)
  return None if best is None else best[0]


def upward_imports(edges):
  """Edges from a module to a module of a higher layer, as messages (modules
  in no layer are left to the test that every module has one)."""
  upward = []
  for a, b, line in edges:
    low, high = layer_of(a), layer_of(b)
    if low is not None and high is not None and high > low:
      upward.append(f"{a} ({LAYERS[low][0]}) imports {b} ({LAYERS[high][0]}), "
                    f"line {line}")
  return upward


def import_cycles(edges):
  """Each set of modules that import each other (directly or through others),
  as the list of its edges (strongly connected components, Tarjan)."""
  graph = {}
  for a, b, _ in edges:
    graph.setdefault(a, set()).add(b)
    graph.setdefault(b, set())
  index, low, stack, on_stack, components = {}, {}, [], set(), []

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for successor in sorted(graph[node]):
      if successor not in index:
        visit(successor)
        low[node] = min(low[node], low[successor])
      elif successor in on_stack:
        low[node] = min(low[node], index[successor])
    if low[node] == index[node]:
      component = set()
      while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
          break
      if len(component) > 1:
        components.append(component)

  for node in sorted(graph):
    if node not in index:
      visit(node)
  return [sorted(f"{a} imports {b}, line {line}" for a, b, line in edges
                 if a in component and b in component)
          for component in components]


def test_every_module_has_a_layer_and_every_layer_entry_exists():
  modules = package_modules()
  assert not [m for m in modules if layer_of(m) is None], (
      "modules in no layer of tests/test_layering.py: "
      f"{[m for m in modules if layer_of(m) is None]}")
  listed = [member for _, members in LAYERS for member in members]
  assert not [m for m in listed if m not in modules], (
      f"LAYERS names modules that do not exist: {[m for m in listed if m not in modules]}")


def test_imports_point_down():
  upward = upward_imports(import_edges(package_modules()))
  assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_cycles():
  cycles = import_cycles(import_edges(package_modules()))
  assert not cycles, "modules that import each other:\n" + "\n\n".join(
      "\n".join(cycle) for cycle in cycles)


def test_the_checks_catch_an_upward_import_and_a_cycle():
  edges = [("nlaic_tf.models.nlaic", "nlaic_tf.metrics", 1),
           ("nlaic_tf.zoo", "nlaic_tf.training.trainer", 2),
           ("nlaic_tf.evaluation.codecs", "nlaic_tf.evaluation.harness", 3),
           ("nlaic_tf.evaluation.harness", "nlaic_tf.evaluation.codecs", 4)]
  assert upward_imports(edges) == [
      "nlaic_tf.zoo (zoo) imports nlaic_tf.training.trainer (training), line 2"]
  assert import_cycles(edges) == [[
      "nlaic_tf.evaluation.codecs imports nlaic_tf.evaluation.harness, line 3",
      "nlaic_tf.evaluation.harness imports nlaic_tf.evaluation.codecs, line 4"]]
