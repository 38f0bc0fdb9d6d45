"""Named arrays in and out of weight files: .npz, .safetensors and PyTorch's .pt (Qt-free).

Nothing is unpickled and nothing is executed:
- .npz: read member by member (each .npy header parsed and its size checked before its data is
  read; object arrays, which would need pickle, are refused).
- .safetensors: the documented format, by hand (8-byte little-endian header length N, N bytes of
  JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}}, then the little-endian data);
  F64, F32, F16 and BF16 are read as floats, integer tensors skipped.
- .pt / .pth: torch.load(weights_only=True) when PyTorch is installed (optional, never required);
  without it such a file is refused with a message saying how to save an .npz instead.
Only floating-point arrays are returned; checkpoints' integer counters and the like are skipped.
Why safetensors by hand, not the safetensors package: the format is three documented parts and
~60 lines here; reading it here goes through the same bounded regular-file reader as every
other file and reads BF16 (common in checkpoints; NumPy has no bfloat16 dtype) as float32;
and the app keeps no compiled dependency it does not need.
Files are read whole with state/files.py's bounded, regular-files-only reader.
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from rnnviz.state import files

MAX_BYTES = 1 << 30                   # 1 GiB: far beyond one layer of 2048 units
MAX_HEADER = 100 * 2**20              # safetensors caps its JSON header at 100 MB
SAFETENSORS_FLOATS = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "bf16"}
SAFETENSORS_OTHER = {"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "U16": 2, "U32": 4,
                     "U64": 8, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
SUFFIXES = (".npz", ".safetensors", ".pt", ".pth")
NPZ_RECIPE = ('numpy.savez("weights.npz", **{k: v.detach().cpu().numpy() for k, v in '
              'model.state_dict().items()})')


class FormatError(ValueError):
    """A weight file that cannot be read or written, with a message saying why."""


def kind(path) -> str:
    """"npz", "safetensors" or "torch" from the file's ending; FormatError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix == ".safetensors":
        return "safetensors"
    if suffix in (".pt", ".pth"):
        return "torch"
    raise FormatError(f"{Path(path).name}: the file must end in {', '.join(SUFFIXES)} (a NumPy "
                      f".npz archive, a safetensors file or a PyTorch state_dict)")


def torch_available() -> bool:
    """Whether PyTorch can be imported (it is optional)."""
    try:
        import torch  # noqa: F401
    except Exception:                 # noqa: BLE001 - any failure means: not usable here
        return False
    return True


def read(path) -> dict[str, np.ndarray]:
    """The floating-point arrays of a weight file, by name; FormatError naming the problem."""
    which = kind(path)
    if which == "torch":
        return _read_torch(path)
    try:
        data = bytes(files.read_regular(path, MAX_BYTES, noun="weight file"))
    except files.FileError as exc:
        raise FormatError(f"{Path(path).name}: {exc}") from None
    return _read_npz(data) if which == "npz" else read_safetensors_bytes(data)


def write(path, arrays: dict[str, np.ndarray]) -> Path:
    """Write named arrays (float32 or float64) in the format the ending names, atomically."""
    which = kind(path)
    if which == "torch":
        return _write_torch(path, arrays)
    data = _npz_bytes(arrays) if which == "npz" else safetensors_bytes(arrays)
    try:
        return files.write_atomic(path, data)
    except files.FileError as exc:
        raise FormatError(f"cannot write {Path(path).name}: {exc}") from None


# ----- .npz -------------------------------------------------------------------------------------
def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FormatError(f"not a NumPy .npz archive ({exc})") from None
    out, budget = {}, MAX_BYTES
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[:-4]
            try:
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, fortran, dtype = read_header(f)
                    if dtype.hasobject:
                        raise FormatError(f"{name}: an array of Python objects (it would need "
                                          f"pickle, which is never used here)")
                    count = math.prod(shape)
                    nbytes = count * dtype.itemsize
                    if nbytes > budget:
                        raise FormatError(f"{name}: too large ({nbytes / 2**20:.0f} MB)")
                    budget -= nbytes
                    raw = f.read(nbytes)
            except FormatError:
                raise
            except Exception as exc:          # noqa: BLE001 - a damaged member, any way
                raise FormatError(f"{name}: not a readable .npy array ({exc})") from None
            if len(raw) != nbytes:
                raise FormatError(f"{name}: the data is shorter than its header says")
            if dtype.kind != "f":
                continue
            a = np.frombuffer(raw, dtype=dtype, count=count)
            a = a.reshape(shape[::-1]).T if fortran else a.reshape(shape)
            out[name] = np.array(a, dtype=dtype.newbyteorder("="))
    return out


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


# ----- .safetensors -----------------------------------------------------------------------------
def read_safetensors_bytes(data: bytes) -> dict[str, np.ndarray]:
    """The float tensors of a safetensors file's bytes."""
    if len(data) < 8:
        raise FormatError("not a safetensors file (shorter than its 8-byte header length)")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER or 8 + n > len(data):
        raise FormatError(f"not a safetensors file (its header length {n} does not fit the "
                          f"file's {len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"not a safetensors file (its header is not JSON: {exc})") from None
    if not isinstance(header, dict):
        raise FormatError("not a safetensors file (its header is not a JSON object)")
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        where = f"safetensors tensor {name[:80]!r}"
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise FormatError(f"{where}: needs dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool)
                                                and d >= 0 for d in shape)):
            raise FormatError(f"{where}: shape must be a list of sizes")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= len(body)):
            raise FormatError(f"{where}: data_offsets must be [begin, end] within the data")
        if dtype in SAFETENSORS_OTHER:
            continue
        if dtype not in SAFETENSORS_FLOATS:
            raise FormatError(f"{where}: unknown dtype {str(dtype)[:20]!r}")
        code = SAFETENSORS_FLOATS[dtype]
        size = 2 if code == "bf16" else np.dtype(code).itemsize
        count = math.prod(shape)
        if offsets[1] - offsets[0] != count * size:
            raise FormatError(f"{where}: {offsets[1] - offsets[0]} bytes for {count} {dtype} values")
        raw = body[offsets[0]:offsets[1]]
        if code == "bf16":                 # bfloat16: the top half of a float32
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=code).astype(np.dtype(code).newbyteorder("="))
        out[name] = a.reshape(shape)
    return out


def safetensors_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A safetensors file of float32/float64 arrays (names sorted, data contiguous, the header
    padded with spaces to a multiple of 8 bytes, as the reference writer does)."""
    header, chunks, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        if a.dtype not in (np.float32, np.float64):
            raise FormatError(f"{name}: only float32 and float64 arrays are written, not {a.dtype}")
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": "F32" if a.dtype == np.float32 else "F64",
                        "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(chunks)


# ----- PyTorch ----------------------------------------------------------------------------------
def _flatten(obj, prefix: str, out: dict, torch) -> None:
    """Tensors of nested dicts (a checkpoint holding a state_dict) by their dotted names."""
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point():
            t = obj.detach().cpu()
            if t.dtype not in (torch.float32, torch.float64):
                t = t.float()                               # float16, bfloat16
            out[prefix[:-1]] = t.numpy().copy()
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _flatten(value, f"{prefix}{key}.", out, torch)


def _read_torch(path) -> dict[str, np.ndarray]:
    name = Path(path).name
    if not torch_available():
        raise FormatError(f"{name}: reading a PyTorch file needs PyTorch, which is not installed "
                          f"(it is optional). Install it, or save the state_dict as .npz or "
                          f".safetensors, e.g. {NPZ_RECIPE}")
    import torch
    try:
        st = os.stat(path)
        files.check_regular(st.st_mode)
    except (OSError, files.FileError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise FormatError(f"{name}: {reason}") from None
    if st.st_size > MAX_BYTES:
        raise FormatError(f"{name}: too large for a weight file ({st.st_size / 2**20:.0f} MB)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:                # noqa: BLE001 - torch raises many kinds
        raise FormatError(f"{name}: PyTorch cannot load it with weights_only=True "
                          f"({str(exc).splitlines()[0][:200]})") from None
    out: dict = {}
    _flatten(obj, "", out, torch)
    return out


def _write_torch(path, arrays) -> Path:
    if not torch_available():
        raise FormatError("writing a PyTorch file needs PyTorch, which is not installed (it is "
                          "optional): export as .npz or .safetensors instead")
    import torch
    buffer = io.BytesIO()
    torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}, buffer)
    try:
        return files.write_atomic(path, buffer.getvalue())
    except files.FileError as exc:
        raise FormatError(f"cannot write {Path(path).name}: {exc}") from None
