"""The user cache: where prepared datasets are kept, as .npz files of plain arrays (no pickle).

The folder is $BPTT_CACHE if set, else $XDG_CACHE_HOME/bptt, else ~/.cache/bptt. A cache file
is only ever an optimisation: one that is missing, unreadable or corrupt reads as None and the
caller rebuilds it; one that cannot be written is skipped with a warning.
"""
import hashlib
import importlib.metadata
import os
import tempfile
import warnings
import zipfile

import numpy as np


def cache_dir():
    """The folder for bptt's cached files (not created here)."""
    configured = os.environ.get("BPTT_CACHE")
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bptt")


def bptt_version():
    """The installed bptt's version ("unknown" when run from a source tree), for cache keys."""
    try:
        return importlib.metadata.version("bptt")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def keyed_file(folder, prefix, *ident):
    """`folder/prefix-KEY.npz`, KEY a short hash of `ident`: whatever fixes the file's content
    (the layout's version, bptt's version, the pinned source), so that a change reads as a miss."""
    key = hashlib.sha256("|".join(map(str, ident)).encode()).hexdigest()[:16]
    return os.path.join(folder, f"{prefix}-{key}.npz")


def load_arrays(path):
    """{name: array} from an .npz file, or None if it is missing or cannot be read whole."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {name: f[name] for name in f.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None


def save_arrays(path, arrays):
    """Write {name: array} to `path` atomically (a temporary file, then a rename).

    Returns True when written; on failure (a read-only folder, a full disk) warns and returns
    False, so that the caller goes on with the arrays it has in memory.
    """
    folder = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # atomic: readers see the old file or the whole new one
        return True
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        warnings.warn(f"bptt could not write its cache file {path} ({e}); going on without "
                      "it. Set BPTT_CACHE to a writable folder to keep it.", RuntimeWarning,
                      stacklevel=3)
        return False
