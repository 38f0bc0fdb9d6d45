"""`rnnviz train`: headless training of a session with a training task, the CSV of its curves,
the trained session the window opens, the same numbers as the state layer, and bad arguments."""
import csv

import numpy as np
import pytest

from rnnviz import cli
from rnnviz.state.workspace import Workspace


@pytest.fixture
def session_file(tmp_path):
    w = Workspace()
    assert w.set_training(task="recall", task_options={"symbols": 4, "T": 12, "delay": 2}, m=8,
                          lr=1e-2) == []
    path = tmp_path / "untrained.json"
    w.save_file(path)
    return path


def test_train_writes_one_csv_row_per_iteration_equal_to_the_runs_records(tmp_path, session_file,
                                                                          capsys):
    out, saved = tmp_path / "curves.csv", tmp_path / "trained.json"
    code = cli.main(["train", "--session", str(session_file), "--iterations", "25",
                     "--out", str(out), "--save", str(saved)])
    assert code == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "25/25" in err and "it/s" in err                  # the progress line
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 25 and list(rows[0]) == ["iteration", "loss", "grad_norm",
                                                 "grad_norm_clipped", "clipped", "rho",
                                                 "sigma_max", "accuracy"]
    # the same run in the state layer, from the same file: the same losses, bit for bit
    w = Workspace()
    w.load_file(session_file)
    stream = w.start_training(25)
    while stream.step():
        pass
    assert [float(r["loss"]) for r in rows] == [r.loss for r in w.run.records.all()]
    trained = Workspace()
    trained.load_file(saved)                                 # the window opens this file
    w.follow_training()
    np.testing.assert_array_equal(trained.params.W, w.params.W)
    assert trained.run.iteration == 25


@pytest.mark.parametrize("args, words", [
    (["train"], "one of the arguments --preset --session is required"),
    (["train", "--preset", "demo", "--iterations", "0"], "--iterations must be a whole number"),
    (["train", "--preset", "demo", "--iterations", "9" * 5000], "--iterations must be a whole number"),
    (["train", "--preset", "demo", "--iterations", "5"], "no training task"),
    (["train", "--preset", "nope"], "nope"),
    (["train", "--preset", "demo", "--out", "/no/such/folder/c.csv"], "not a folder"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, words, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
