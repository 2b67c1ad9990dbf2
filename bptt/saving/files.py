"""Writing a file whole or not at all.

The bytes go to a temporary file beside the target, named `.<name>.bptt-tmp-<pid>-<random>`,
which is flushed to disk (fsync) and then renamed over the target (os.replace, atomic on POSIX);
the directory is synced so that the rename survives a power cut too. A reader sees the old file
or the new one, never a mix. A failure removes the temporary file; one left by a process that was
killed while saving is removed by the next save to the same path, once that process is gone.

The file is created with mode 0666 less the umask, as open() creates files (0644 under the
usual umask 022).
"""
import contextlib
import os
import secrets

TEMP_MARK = ".bptt-tmp-"


def temp_prefix(path):
    directory, name = os.path.split(path)
    return os.path.join(directory, f".{name}{TEMP_MARK}")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or no way to know: leave its file alone
    return True


def remove_leftovers(path):
    """Remove the temporary files of earlier saves to `path` whose process has ended."""
    directory, name = os.path.split(path)
    prefix = f".{name}{TEMP_MARK}"
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        pid = entry[len(prefix):].split("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            os.remove(os.path.join(directory, entry))


def write_atomically(filepath, write):
    """Call write(binary file) on a temporary file, then put it in place of `filepath`."""
    path = os.path.abspath(os.fspath(filepath))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{filepath!r} is a directory: give a file path, e.g. "
                                f"{os.path.join(os.fspath(filepath), 'model.bptt')!r}.")
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    remove_leftovers(path)
    tmp = f"{temp_prefix(path)}{os.getpid()}-{secrets.token_hex(6)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    if not hasattr(os, "O_DIRECTORY"):  # Windows: no directory handles to sync
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
