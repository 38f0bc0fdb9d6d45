"""Issue 10, item 10: File > Save (Session.save_file) keeps the file system's expectations.

It keeps a file's mode, writes through symbolic links, refuses read-only files, saves every legal
name, cleans up what a killed save left, and stays atomic.
"""
import os
import signal
import stat
import subprocess
import sys

import pytest

from rnnviz.state import files, sessionfile
from rnnviz.state.session import Session
from rnnviz.state.sessionfile import SessionFileError


def saved(tmp_path, name="s.json", seed=0) -> Session:
    session = Session()
    session.apply(seed=seed)
    session.save_file(tmp_path / name)
    return session


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def seed_in(path) -> int:
    return sessionfile.load(path)["config"].seed


@pytest.mark.parametrize("start", [0o644, 0o640, 0o600, 0o664, 0o755])
def test_save_keeps_the_files_mode(tmp_path, start):
    session = saved(tmp_path)
    os.chmod(tmp_path / "s.json", start)
    session.apply(seed=1)
    session.save_file(tmp_path / "s.json")
    assert mode(tmp_path / "s.json") == start and seed_in(tmp_path / "s.json") == 1


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        saved(tmp_path, "new.json")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new.json") == 0o640


def test_save_writes_through_a_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    saved(tmp_path / "real", "target.json")
    os.symlink("real/target.json", tmp_path / "link.json")
    session = Session()
    session.load_file(tmp_path / "link.json")
    session.apply(seed=42)
    session.save_file(tmp_path / "link.json")
    assert os.path.islink(tmp_path / "link.json")
    assert seed_in(tmp_path / "real" / "target.json") == 42
    assert sorted(os.listdir(tmp_path / "real")) == ["target.json"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    os.symlink("made.json", tmp_path / "link.json")
    saved(tmp_path, "link.json", seed=3)
    assert os.path.islink(tmp_path / "link.json") and seed_in(tmp_path / "made.json") == 3


def test_a_read_only_file_is_refused_with_a_message(tmp_path):
    saved(tmp_path, seed=5)
    os.chmod(tmp_path / "s.json", 0o444)
    before = (tmp_path / "s.json").read_bytes()
    session = Session()
    session.apply(seed=6)
    with pytest.raises(SessionFileError, match="read-only"):
        session.save_file(tmp_path / "s.json")
    assert (tmp_path / "s.json").read_bytes() == before and session.dirty
    assert os.listdir(tmp_path) == ["s.json"]


def test_a_folder_or_device_is_refused(tmp_path):
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(SessionFileError, match="folder"):
        Session().save_file(tmp_path / "dir.json")
    os.symlink("/dev/null", tmp_path / "null.json")
    with pytest.raises(SessionFileError, match="device"):
        Session().save_file(tmp_path / "null.json")


@pytest.mark.parametrize("length", [243, 250, 254, 255])
def test_names_up_to_name_max_save(tmp_path, length):
    name = "n" * (length - 5) + ".json"
    assert len(os.fsencode(name)) == length
    saved(tmp_path, name, seed=length)
    assert seed_in(tmp_path / name) == length and os.listdir(tmp_path) == [name]


def test_a_multibyte_name_of_255_bytes_saves(tmp_path):
    name = "é" * 125 + ".json"
    assert len(os.fsencode(name)) == 255
    saved(tmp_path, name, seed=2)
    assert seed_in(tmp_path / name) == 2 and os.listdir(tmp_path) == [name]


def test_temporary_names_fit_and_are_recognised(tmp_path):
    for name in ("a.json", "n" * 250 + ".json", "é" * 125 + ".json"):
        temp = os.path.basename(files.temp_name(str(tmp_path / name)))
        assert len(os.fsencode(temp)) <= 255
        assert temp.startswith(os.path.basename(files.temp_prefix(str(tmp_path / name))))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_this_file_are_removed_and_nothing_else(tmp_path):
    session = saved(tmp_path)
    target = str(tmp_path / "s.json")
    prefix = os.path.basename(files.temp_prefix(target))
    host = files._HOST
    stale = [f"{prefix}{host}-{dead_pid()}-0123abcd.tmp", ".s.json.abc_1234.tmp"]
    kept = [f"{prefix}{host}-{os.getppid()}-0123abcd.tmp",      # a running process's save
            f"{prefix}ffffff-{dead_pid()}-0123abcd.tmp",         # another machine's
            ".other.json.rnnviz-x.tmp", ".s.json.abcdefgh.tmp",  # another file's; too recent
            "notes.txt"]
    for name in stale + kept:
        (tmp_path / name).write_text("partial")
    os.utime(tmp_path / ".s.json.abc_1234.tmp", (1, 1))          # an old version's, old
    link = f"{prefix}{host}-{dead_pid()}-0000beef.tmp"            # a link is never followed
    os.symlink("notes.txt", tmp_path / link)
    session.save_file(target)
    left = set(os.listdir(tmp_path))
    assert not set(stale) & left
    assert set(kept) | {link, "s.json"} == left
    assert (tmp_path / "notes.txt").read_text() == "partial"


KILLED_SAVE = r"""
import os, sys
from rnnviz.state import files
from rnnviz.state.session import Session
session = Session()
session.apply(seed=77)

def killed(fd):
    os.kill(os.getpid(), 9)                 # dies with the new content written, not renamed
files.os.fsync = killed
session.save_file(sys.argv[1])
"""


def test_a_killed_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    saved(tmp_path, seed=1)
    before = (tmp_path / "s.json").read_bytes()
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(tmp_path / "s.json")],
                          capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "s.json").read_bytes() == before
    temps = [n for n in os.listdir(tmp_path) if n != "s.json"]
    assert len(temps) == 1 and os.path.getsize(tmp_path / temps[0]) > 0
    session = Session()
    session.load_file(tmp_path / "s.json")
    session.apply(seed=2)
    session.save_file(tmp_path / "s.json")
    assert os.listdir(tmp_path) == ["s.json"] and seed_in(tmp_path / "s.json") == 2


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    saved(tmp_path, seed=1)
    before = (tmp_path / "s.json").read_bytes()

    def full(fd, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "write", full)
    with pytest.raises(SessionFileError, match="No space left"):
        saved(tmp_path, seed=9)
    assert (tmp_path / "s.json").read_bytes() == before and os.listdir(tmp_path) == ["s.json"]
