"""Keeping dataset tests off the package registry and the user's cache."""


def refuse_pip(monkeypatch, tmp_path, module):
    """Make `module`'s pip runner fail the test if called, and point the bptt cache into
    tmp_path, so that no test reaches the registry or the user's cache."""
    def refuse(args):
        raise AssertionError(f"pip was run: {args}")

    monkeypatch.setattr(module, "_run_pip", refuse)
    monkeypatch.setenv("BPTT_CACHE", str(tmp_path / "user-cache"))
