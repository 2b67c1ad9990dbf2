"""The `bptt` command run in-process, for the CLI tests."""
from bptt import cli


def run_cli(capsys, *argv):
    """main(argv) in-process: (exit status, stdout, stderr)."""
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err
