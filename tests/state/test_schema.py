"""One field schema for validation and the dock: it covers every setting, and its choices are the engine's."""
import dataclasses

from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.cells import CELLS
from rnnviz.engine.data import INPUT_PATTERNS, TARGET_PATTERNS
from rnnviz.engine.init import RECURRENT_KINDS
from rnnviz.state import config as cfg
from rnnviz.state import schema


def test_every_setting_has_exactly_one_field_and_a_type_its_default_has():
    names = [f.name for f in dataclasses.fields(cfg.Config)]
    assert sorted(schema.FIELDS) == sorted(names)
    python_type = {"int": int, "float": float, "choice": str, "text": str}
    for name, field in schema.FIELDS.items():
        assert isinstance(getattr(cfg.DEFAULT, name), python_type[field.kind]), name
        assert field.label and field.help and field.group, name
        if field.kind in ("int", "float"):
            lo, hi = field.limits
            assert lo <= getattr(cfg.DEFAULT, name) <= hi, name


def test_choices_are_the_engines_registries():
    assert schema.FIELDS["activation"].choices == tuple(ACTIVATIONS)
    assert schema.FIELDS["init"].choices == RECURRENT_KINDS
    assert schema.FIELDS["input_pattern"].choices == (*INPUT_PATTERNS, cfg.TASK_PATTERN)
    assert schema.FIELDS["target_pattern"].choices == TARGET_PATTERNS
    assert schema.FIELDS["cell"].options == tuple(CELLS) and "vanilla" in CELLS
    for field in schema.FIELDS.values():
        if field.option_names is not None:
            assert tuple(field.option_names) == field.options, field.name


def test_a_cell_registered_later_is_a_choice_at_once():
    from tests.cells_for_tests import SymmetricCell, registered
    assert not cfg.replace(cfg.DEFAULT, cell="test_symmetric")[0].cell == "test_symmetric"
    with registered(SymmetricCell):
        new, problems = cfg.replace(cfg.DEFAULT, cell="test_symmetric")
        assert problems == [] and new.cell == "test_symmetric"
        assert "test_symmetric" in cfg.CHOICES["cell"]
    assert "test_symmetric" not in cfg.CHOICES["cell"]


def test_validation_reads_the_schema():
    field = schema.FIELDS["n_s"]
    assert cfg.LIMITS["n_s"] == field.limits
    too_big = int(field.limits[1]) + 1
    _, problems = cfg.replace(cfg.DEFAULT, n_s=too_big)
    assert problems and problems[0].field == "n_s" and str(int(field.limits[1])) in problems[0].message
