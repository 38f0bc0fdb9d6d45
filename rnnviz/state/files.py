"""Reading and writing user files safely: regular files only, bounded reads, atomic saves.

- `read_regular` opens without blocking (a FIFO with no writer cannot hang it), refuses anything
  but a regular file (folders, /dev/zero, FIFOs, sockets) and never reads more than its limit.
- `write_atomic` writes a temporary file beside the target, fsyncs it, renames it over the
  target and fsyncs the folder: a kill at any moment leaves the old file or the new one. It
  writes through symbolic links (the link's target is replaced, the link stays), keeps an
  existing file's permission bits (a new file gets the umask's), refuses a read-only file, and
  keeps the temporary name within the folder's NAME_MAX.
- Temporary files left by a killed save are removed by the next save of the same file. One is
  recognised as ours, and stale, only when all of these hold: its name is
  `.NAME.rnnviz-HOST-PID-TOKEN.tmp` for this target's NAME (cut as `temp_name` cuts it), HOST is
  this machine's tag, PID is not a running process (nor this one's own save in progress), and
  it is a regular file (not a link) owned by this user. Temporaries of older versions
  (`.NAME.XXXXXXXX.tmp`, tempfile.mkstemp's) are removed under the same ownership test once they
  are an hour old, as a save of 200 MB takes seconds.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import stat
import time
from pathlib import Path

READ_BLOCK = 1 << 20
LEGACY_TEMP_AGE = 3600.0                  # seconds
_IN_PROGRESS: set[str] = set()            # temporary files this process is writing now
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


class FileError(Exception):
    """A file that cannot be read or written, with a message saying why (no path in it)."""


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    return exc.strerror or str(exc)


def check_regular(mode: int) -> None:
    """FileError unless st_mode is a regular file's."""
    if stat.S_ISDIR(mode):
        raise FileError("it is a folder, not a file")
    if not stat.S_ISREG(mode):
        kind = ("a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device")
        raise FileError(f"it is {kind}, not a regular file")


def read_regular(path: str | os.PathLike, max_bytes: int, noun: str = "file") -> bytearray:
    """The whole content of a regular file of at most max_bytes; FileError otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        try:                                # a socket cannot be opened: say what it is
            check_regular(os.stat(path).st_mode)
        except OSError:
            pass
        raise FileError(_reason(exc)) from None
    try:
        st = os.fstat(fd)
        check_regular(st.st_mode)

        def too_large(size: int) -> FileError:
            return FileError(f"it is too large for a {noun} ({size / 2**20:.0f} MB; at most "
                             f"{max_bytes / 2**20:.0f} MB)")
        if st.st_size > max_bytes:
            raise too_large(st.st_size)
        buffer = bytearray(st.st_size)
        with open(fd, "rb", buffering=0, closefd=False) as f, memoryview(buffer) as view:
            got = 0
            while got < len(buffer) and (n := f.readinto(view[got:])):
                got += n
        del buffer[got:]                        # the file shrank while it was read
        while chunk := os.read(fd, READ_BLOCK):  # ... or grew
            buffer += chunk
            if len(buffer) > max_bytes:
                raise too_large(len(buffer))
        return buffer
    except OSError as exc:
        raise FileError(_reason(exc)) from None
    finally:
        os.close(fd)


# ----- atomic saves ---------------------------------------------------------------------------
def _name_max(folder: str) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def temp_prefix(target: str) -> str:
    """The start of the temporary names of a target: "." + its name, cut to leave room."""
    folder, name = os.path.split(target)
    room = _name_max(folder or ".") - len(f"..rnnviz-{_HOST}-{2**22}-{'0' * 8}.tmp") - 8
    raw = os.fsencode(name)[:max(room, 1)]
    return "." + os.fsdecode(raw) + ".rnnviz-"


def temp_name(target: str) -> str:
    """A fresh temporary name for a target, in its folder, that fits NAME_MAX."""
    token = secrets.token_hex(4)
    return os.path.join(os.path.dirname(target),
                        f"{temp_prefix(target)}{_HOST}-{os.getpid()}-{token}.tmp")


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True                         # someone else's process, or not a pid: keep
    return True


def _stale(path: str, pid: int | None) -> bool:
    """Whether a temporary name of ours is a stale file we may remove (see the docstring)."""
    if path in _IN_PROGRESS:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return False
    if pid is None:                         # an older version's name: no pid to ask about
        return time.time() - st.st_mtime > LEGACY_TEMP_AGE
    return pid == os.getpid() or not _pid_running(pid)


def clean_stale_temps(target: str) -> list[str]:
    """Remove the stale temporary files of earlier, killed saves of target; their paths."""
    folder = os.path.dirname(target) or "."
    prefix = os.path.basename(temp_prefix(target))
    ours = re.compile(re.escape(prefix) + re.escape(_HOST) + r"-(\d{1,10})-[0-9a-f]{8}\.tmp")
    legacy = re.compile(re.escape("." + os.path.basename(target) + ".")
                        + r"[a-z0-9_]{8}\.tmp")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = ours.fullmatch(name)
        if match is None and not legacy.fullmatch(name):
            continue
        path = os.path.join(folder, name)
        if _stale(path, int(match.group(1)) if match else None):
            try:
                os.unlink(path)
                removed.append(path)
            except OSError:
                pass
    return removed


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Replace a file's content by data, atomically (see the module docstring); the file written
    (the link's target when path is a symbolic link). FileError with the reason otherwise."""
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FileError(_reason(exc)) from None
    if st is not None:
        check_regular(st.st_mode)
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise FileError(f"the file is read-only (permissions {stat.filemode(st.st_mode)}): "
                            f"make it writable, or save under another name")
    tmp = temp_name(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o666)                 # the umask decides a new file's mode, as for open()
    except OSError as exc:
        raise FileError(f"cannot write to the folder {folder}: {_reason(exc)}") from None
    _IN_PROGRESS.add(tmp)
    try:
        try:
            if st is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(st.st_mode) & 0o777)
            with memoryview(data) as view:
                done = 0
                while done < len(view):
                    done += os.write(fd, view[done:])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileError(_reason(exc)) from None
    finally:
        _IN_PROGRESS.discard(tmp)
    _fsync_folder(folder)
    clean_stale_temps(target)
    return Path(target)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
