"""What a workspace puts in a share code and takes out of one (sharecode.py is the format).

Sharing: the configuration, the preset the set-up came from, the view choices and t and b;
the preset's own arrays by name; every matrix that is not the seed's draw (hand-edited, or
stored) as the entries that differ from its base, or whole, while the code stays within
sharecode.SHARE_BUDGET characters. Whatever does not fit, or cannot be shared (inputs that are
neither the seed's nor the preset's), is named in a note for the user.
Pasting: the same set-up back; a code of format 1 (configuration only) that equals a preset's
configuration is that preset (its arrays, explanation and view).
"""
from __future__ import annotations

import numpy as np

from rnnviz.state import derive, presets, sharecode
from rnnviz.state.selection import DEFAULT_PANELS
from rnnviz.state.sessionfile import param_shapes


def _preset(name: str | None):
    if name is None:
        return None
    try:
        return presets.get_preset(name)
    except KeyError:
        return None


def _base(config, preset, name: str, draw: dict) -> np.ndarray:
    """The array sparse entries are relative to: the preset's own, else the seed's draw."""
    if preset is not None and name in preset.params and \
            preset.params[name].shape == param_shapes(config)[name]:
        return preset.params[name]
    if "params" not in draw:
        draw["params"] = derive.draw_params_and_eigenvalues(config)[0]
    return getattr(draw["params"], name)


def _same(a, b) -> bool:
    return np.shape(a) == np.shape(b) and bool(np.array_equal(np.asarray(a, np.float64),
                                                              np.asarray(b, np.float64)))


def share(workspace) -> tuple[str, list[str]]:
    """(code, notes) for a workspace's set-up and selection."""
    setup, config = workspace.setup, workspace.config
    names = derive.param_names(config)
    preset = _preset(setup.preset)
    st = setup.params
    arrays = workspace.params.as_dict()
    from_preset = frozenset(
        n for n in names if preset is not None and n not in st.seeded
        and n not in st.edited and n in preset.params and _same(arrays[n], preset.params[n]))
    draw: dict = {}
    edits = {n: sharecode.edit_of(arrays[n], _base(config, preset, n, draw), n in st.edited)
             for n in names if n not in st.seeded and n not in from_preset}
    notes = []
    preset_inputs = False
    if setup.fixed_inputs:
        preset_inputs = preset is not None and bool(preset.inputs) and all(
            _same(setup.fixed_inputs[k], preset.inputs.get(k)) for k in ("x", "s0"))
        if not preset_inputs:
            notes.append("the set-up's own inputs x and s0 are not in the code: it draws "
                         "them from the seed; save a session file to keep them")
    view = workspace.view
    shown = {k: view[k] for k in sharecode.VIEW_KEYS if k in view}
    if "panels" in shown:
        shown["panels"] = {k: v for k, v in shown["panels"].items()
                           if DEFAULT_PANELS.get(k, True) != v}
        if not shown["panels"]:
            del shown["panels"]
    trained = getattr(setup, "training", None)
    shared = sharecode.Shared(config, preset.name if preset is not None else None, shown,
                              from_preset, preset_inputs, edits,
                              training=trained.to_dict() if trained is not None else None)
    code, left_out = sharecode.pack_within(shared)
    for name, length in left_out.items():
        what = "hand-edited" if name in st.edited else "stored"
        notes.append(f"the {what} weights {name} are not in the code: with them it would be "
                     f"{length:,} characters (at most {sharecode.SHARE_BUDGET:,}); it draws "
                     f"{name} from the seed. Save a session file (Ctrl+S) to keep them")
    return code, notes


def _preset_of_config(config):
    """The one preset whose configuration this is (format 1 codes carry no preset name)."""
    found = [p for p in presets.list_presets() if p.config == config]
    return found[0] if len(found) == 1 else None


def unshare(shared: sharecode.Shared, current_view: dict) -> tuple[dict, list[str]]:
    """(parsed set-up for Workspace._replace_all, notes) from a decoded share code.

    The receiver keeps its own view entries the code does not set (presentation, speed...)."""
    config, notes = shared.config, []
    preset = _preset(shared.preset)
    if shared.preset is not None and preset is None:
        notes.append(f"the code names the preset {shared.preset!r}, which this version of "
                     f"rnnviz does not have: opened as a custom set-up")
    if shared.version == 1:
        preset = _preset_of_config(config)
    shapes = param_shapes(config)
    params, inputs = {}, {}
    use_preset_arrays = shared.from_preset if shared.version == 2 else \
        frozenset(preset.params) if preset is not None else frozenset()
    for name in use_preset_arrays:
        if preset is None or name not in preset.params or preset.params[name].shape != shapes[name]:
            raise ValueError(f"the code takes {name} from a preset that does not hold it")
        params[name] = preset.params[name]
    draw: dict = {}
    for name, edit in shared.edits.items():
        base = None if edit.dense is not None else _base(config, preset, name, draw)
        params[name] = edit.apply(base)
    if shared.preset_inputs or (shared.version == 1 and preset is not None and preset.inputs):
        if preset is None or not preset.inputs:
            raise ValueError("the code takes x and s0 from a preset that does not hold them")
        inputs = dict(preset.inputs)
    keep = {k: v for k, v in current_view.items() if k not in sharecode.VIEW_KEYS}
    view = {**keep, "panels": dict(DEFAULT_PANELS)}
    if preset is not None:
        view.update({k: v for k, v in preset.view.items() if k in sharecode.VIEW_KEYS})
    view.update(shared.view)
    if "panels" in shared.view:
        view["panels"] = {**DEFAULT_PANELS, **shared.view["panels"]}
    view.setdefault("t", config.T - 1)
    view["t"], view["b"] = min(view["t"], config.T - 1), min(view.get("b", 0), config.m - 1)
    edited = frozenset(n for n, e in shared.edits.items() if e.edited)
    trained = None
    if shared.training is not None:
        from rnnviz.state import training  # (it imports the engine's optimisers)
        try:
            trained = training.make_training(**shared.training)
        except (training.TrainingError, TypeError) as exc:
            raise ValueError(f"share code holds an unusable training set-up: {exc}") from None
    elif shared.version == 1 and preset is not None:
        trained = getattr(preset, "training", None)
    return {"config": config, "params": params, "edited": edited, "inputs": inputs,
            "view": view, "preset": preset.name if preset is not None else None,
            "training": trained}, notes
