"""Reading a file's zip entries and .npy arrays within limits, whatever the file holds.

Nothing read here trusts a size it has not checked: an entry must lie within the file, its
declared size is checked before it is inflated, and the inflation stops at that size (zipfile's
own cap; a stream that would go on is cut and fails its CRC). A compressed entry may expand to `MAX_RATIO` times the bytes it
takes in the file (bptt writes entries uncompressed; float weights and JSON compress far less
than a deflate bomb's 1000:1), and a JSON entry to `JSON_LIMIT` bytes at most, so reading a file
costs memory in proportion to its size, whatever its headers claim.

An array's header (numpy's .npy format) is parsed by numpy's own header reader, with its limit
on the header's length; its dtype must be one the caller allows, and its shape must be exactly
backed by the bytes that follow the header.
"""
import io
import json
import math
import zipfile

import numpy as np

from bptt.saving.errors import ModelFileError

JSON_LIMIT = 16 << 20  # bytes a JSON entry may expand to (a large model's config: ~1 MB)
MAX_RATIO = 64  # how much a compressed entry may expand
MAX_ENTRIES = 65536  # zip entries: a model file has a handful, a weights file one per weight
FLOATS = (np.dtype("float32"), np.dtype("float64"))
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class Archive:
    """A zip archive opened for reading, its entries by name, each read once within limits."""

    def __init__(self, source, what, kind="zip archive"):
        self.what = what
        try:
            self.zip = zipfile.ZipFile(source)
            infos = self.zip.infolist()
        except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
            raise ModelFileError(f"{what} cannot be opened ({error.strerror}); check the "
                                 "path.") from error
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
                NotImplementedError) as error:
            raise ModelFileError(f"{what} is not a {kind}: it cannot be read as a zip archive "
                                 f"({error}).") from error
        self.size = self.zip.fp.seek(0, io.SEEK_END)  # the bytes there are to read
        if len(infos) > MAX_ENTRIES:
            raise ModelFileError(f"{what} has {len(infos)} entries; a bptt file has at most "
                                 f"{MAX_ENTRIES}.")
        self.infos = {}
        for info in infos:
            if info.filename in self.infos:
                raise ModelFileError(f"{what} holds two entries named {info.filename!r}.")
            self.infos[info.filename] = info

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def names(self):
        return list(self.infos)

    def read(self, name, limit=None):
        """The bytes of entry `name`, at most `limit` bytes (and MAX_RATIO times its
        compressed size)."""
        info = self.infos.get(name)
        if info is None:
            raise ModelFileError(f"{self.what} has no entry {name!r}.")
        if info.compress_type not in _METHODS:
            raise ModelFileError(f"{self.what}: entry {name!r} uses zip compression method "
                                 f"{info.compress_type}; bptt reads stored or deflated entries.")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{self.what}: entry {name!r} is encrypted.")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise ModelFileError(f"{self.what}: entry {name!r} is stored uncompressed but "
                                 f"declares {info.file_size} bytes in {info.compress_size}.")
        if info.header_offset + info.compress_size > self.size:
            raise ModelFileError(f"{self.what}: entry {name!r} declares {info.compress_size:,} "
                                 f"bytes from offset {info.header_offset:,}, past the end of "
                                 f"the file ({self.size:,} bytes); the file is cut short or "
                                 "damaged.")
        bound = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
            MAX_RATIO * info.compress_size + 4096
        bound = bound if limit is None else min(bound, limit)
        if info.file_size > bound:
            raise ModelFileError(
                f"{self.what}: entry {name!r} would expand to {info.file_size:,} bytes, more "
                f"than the {bound:,} allowed (from {info.compress_size:,} compressed bytes).")
        try:
            with self.zip.open(info) as stream:
                data = stream.read(info.file_size + 1)
        except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, OSError, ...
            raise ModelFileError(f"{self.what}: entry {name!r} is damaged "
                                 f"({type(error).__name__}: {error}).") from error
        if len(data) != info.file_size:
            raise ModelFileError(f"{self.what}: entry {name!r} holds {len(data)} bytes, its "
                                 f"header says {info.file_size}.")
        return data

    def read_json(self, name):
        return parse_json(self.read(name, JSON_LIMIT), f"{self.what}: {name}")


def parse_json(data, what):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"{what} is not valid JSON ({type(error).__name__}: "
                             f"{str(error)[:200]}).") from None


def read_npy(data, what, dtypes=FLOATS):
    """The array of one .npy file's bytes, in native byte order; its dtype one of `dtypes`
    (dtypes, or "text" for a 1-D array of unicode strings)."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except Exception as error:  # numpy's parse: ValueError, SyntaxError, tokenize's TokenError...
        raise ModelFileError(f"{what}: not a valid .npy array ({str(error)[:200]}).") from None
    if dtypes == "text":
        ok = dtype.kind == "U" and len(shape) == 1 and dtype.itemsize <= 4096
    else:
        ok = not dtype.hasobject and dtype.newbyteorder("=") in tuple(dtypes)
    if not ok:
        expected = "a 1-D array of text" if dtypes == "text" else [str(d) for d in dtypes]
        raise ModelFileError(f"{what}: an array of dtype {dtype} and shape {shape} is not "
                             f"read here; expected {expected}.")
    if any(n < 0 for n in shape):
        raise ModelFileError(f"{what}: the header declares a negative dimension, shape {shape}.")
    offset = stream.tell()
    size = math.prod(shape)
    if size * dtype.itemsize != len(data) - offset:
        raise ModelFileError(f"{what}: the header declares shape {shape} ({size * dtype.itemsize:,}"
                             f" bytes of {dtype}) but {len(data) - offset:,} bytes follow it.")
    array = np.frombuffer(data, dtype=dtype, count=size, offset=offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return array.astype(dtype.newbyteorder("="), order="C")  # a copy: writable, its own memory


def read_npz(source, what, dtypes=None):
    """{key: array} from a .npz (a zip of .npy files; bytes or a path), every member checked;
    `dtypes` maps a key to what read_npy accepts for it (default FLOATS)."""
    arrays = {}
    source = io.BytesIO(source) if isinstance(source, bytes) else source
    with Archive(source, what) as npz:
        for name in npz.names():
            if not name.endswith(".npy"):
                raise ModelFileError(f"{what}: unexpected entry {name!r}.")
            key = name[:-4]
            arrays[key] = read_npy(npz.read(name), f"{what}: {name}",
                                   (dtypes or {}).get(key, FLOATS))
    return arrays
