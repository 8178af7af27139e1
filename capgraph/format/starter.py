"""The commented starter map ``capgraph new`` writes: one of each thing a map can say.

It checks and predicts as written (a test holds it to that), so a new user edits a working map
instead of deleting most of an example.
"""

from __future__ import annotations

#: The schema file the starter's first line points editors at (yaml-language-server).
SCHEMA_FILE = "capgraph.schema.json"

_STARTER = """\
# yaml-language-server: $schema={schema}
# A capability map: skills with smooth scaling curves, capabilities built from them.
#   capgraph check {file}      every problem as file:line:col
#   capgraph predict {file}    where each capability crosses its threshold
#   capgraph explain {file} solve_problem   what moves that crossing
# Every key and its default: docs/format.md in capgraph's repository.
name: {name}
scale:
  axis: params          # curve parameters are written on this axis: params | tokens | flops
  range: [1e8, 1e14]    # where crossings are searched
  tokens_per_param: 20  # tokens = 20 × params; FLOPs = 6 × params × tokens
threshold: 0.5          # the default threshold of every capability

skills:
  reasoning_step:
    description: One correct inference step.
    curve:
      # a 90% range instead of a number: predict then gives each crossing as a median with an
      # interval (Monte Carlo through the whole map)
      logistic: {{midpoint: 3e9 to 3e10, slope: 1.5}}   # slope: logits per decade of scale
  recall_fact:
    description: Recalling the one fact the problem needs.
    curve:
      logistic: {{midpoint: 2e10, slope: 1.2}}

capabilities:
  solve_problem:
    description: Five correct steps in a row and the fact, solved in one of five attempts.
    requires: {{reasoning_step: 5, recall_fact: 1}}   # a count is repeats: p^5
    combine: all        # all | any | k_of_n (with k) | mean | min | geomean
    metric: {{pass_at: {{k: 5}}}}   # the lens the benchmark scores with
    threshold: 0.8

scenarios:              # capgraph compare {file} sets them side by side
  better_training:
    description: Training methods twice as efficient (a multiplier on effective compute).
    efficiency: 2
"""


def starter_map(file_name: str, name: str | None = None) -> str:
    """The starter map's text, its comments naming ``file_name``; ``name`` defaults to the stem.

    >>> text = starter_map("my_map.yaml")
    >>> text.splitlines()[0]
    '# yaml-language-server: $schema=capgraph.schema.json'
    >>> "name: my map" in text
    True
    """
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    title = name or stem.replace("_", " ").replace("-", " ").strip() or "my map"
    return _STARTER.format(schema=SCHEMA_FILE, file=file_name, name=title)
