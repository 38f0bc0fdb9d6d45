"""Ready-made lecture scenarios, stored as JSON in resources/presets (shipped as rnnviz.resources).

A preset file holds: name, order (menu position), title, summary (one line), explanation
(markdown-ish text of what to look at and why), source (the literature), config (every Config
field), view (at least "t" and "b", as in session files) and optionally "params" and "inputs":
exact arrays that replace the seed's draw (the notebook preset uses them to show the notebook's
own numbers).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from rnnviz.state import config as cfg
from rnnviz.state import sessionfile

DEMO = "demo"       # the built-in default demo: what `rnnviz` opens with no arguments
KEYS = ("name", "order", "title", "summary", "explanation", "source", "config", "view")
OPTIONAL = ("params", "inputs", "training")


@dataclass(frozen=True)
class Preset:
    """One lecture scenario: a configuration, a starting view and the text explaining it."""
    name: str
    title: str
    summary: str
    explanation: str
    config: cfg.Config
    view: dict
    source: str = ""
    order: int = 0
    params: dict[str, np.ndarray] = field(default_factory=dict)   # replace the seed's draw
    inputs: dict[str, np.ndarray] = field(default_factory=dict)   # x and s0, when fixed
    training: object = None           # a training.TrainingSetup: the preset trains live


def parse(doc: dict, origin: str = "preset") -> Preset:
    """A validated preset from a decoded JSON document; ValueError naming the problem."""
    if not isinstance(doc, dict):
        raise ValueError(f"{origin}: a preset must be a JSON object")
    missing = [k for k in KEYS if k not in doc]
    extra = [k for k in doc if k not in KEYS + OPTIONAL]
    if missing or extra:
        raise ValueError(f"{origin}: missing {missing}, unknown {extra}")
    for key in ("name", "title", "summary", "explanation", "source"):
        if not isinstance(doc[key], str) or not doc[key].strip():
            raise ValueError(f"{origin}: {key} must be a non-empty string")
    if "\n" in doc["summary"]:
        raise ValueError(f"{origin}: summary must be one line")
    if not isinstance(doc["order"], int):
        raise ValueError(f"{origin}: order must be a whole number")
    config, problems = cfg.from_dict(doc["config"])
    if problems:
        raise ValueError(f"{origin}: config: {cfg.describe(problems)}")
    try:
        view = sessionfile.check_view(doc["view"], config)
        params = sessionfile.check_arrays(doc.get("params", {}), sessionfile.param_shapes(config),
                                     "params")
        inputs = sessionfile.check_arrays(doc.get("inputs", {}), sessionfile.input_shapes(config),
                                     "inputs")
    except sessionfile.SessionFileError as exc:
        raise ValueError(f"{origin}: {exc}") from None
    if len(inputs) == 1:
        raise ValueError(f"{origin}: inputs must hold both x and s0")
    setup_training = None
    if "training" in doc:
        from rnnviz.state import training
        try:
            setup_training = training.make_training(**doc["training"])
        except (training.TrainingError, TypeError) as exc:
            raise ValueError(f"{origin}: training: {exc}") from None
    return Preset(name=doc["name"], title=doc["title"], summary=doc["summary"],
                  explanation=doc["explanation"], config=config, view=view,
                  source=doc["source"], order=doc["order"], params=params, inputs=inputs,
                  training=setup_training)


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[Preset, ...]:
    folder = resources.files("rnnviz.resources") / "presets"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            doc = json.loads(entry.read_text(encoding="utf-8"))
            preset = parse(doc, origin=entry.name)
            if preset.name + ".json" != entry.name:
                raise ValueError(f"{entry.name}: name {preset.name!r} does not match the file name")
            found.append(preset)
    return tuple(sorted(found, key=lambda p: (p.order, p.name)))


def list_presets() -> list[Preset]:
    """Every shipped preset, in menu order."""
    return list(_load_all())


def names() -> list[str]:
    """The names of every shipped preset, in menu order."""
    return [p.name for p in _load_all()]


def get_preset(name: str) -> Preset:
    """The preset of this name; KeyError listing the known names otherwise."""
    for preset in _load_all():
        if preset.name == name:
            return preset
    raise KeyError(f"no preset named {name!r}; known: {', '.join(names())}")
