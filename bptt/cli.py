"""The `bptt` command.

    bptt summary MODEL                 print a saved model's layers and parameter counts
    bptt predict MODEL "text" ...      score texts with a model trained on bptt.datasets.imdb
                                       (encoded the same way); --file FILE or stdin for many
    bptt report MODEL --data imdb      one HTML page on the model: summary, training curves
                                       (--history FILE), gradient through time, gates over
                                       the words of test examples (imdb or udpos)
    bptt info                          versions, float type, kernels, BLAS in use
"""
import argparse
import os
import sys
import traceback

from bptt import cli_predict, cli_report
from bptt.cli_predict import InputError, print_scores, read_texts

EXIT_STATUS = """On failure, one line `bptt COMMAND: error: ...` on stderr (the traceback before it
with --debug), and the exit status says which kind:
  0  success
  1  failure while running (a missing package, an internal error)
  2  bad usage or input (arguments, model file, an empty text or file)
  130  interrupted (Ctrl-C)"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line (its status 2 kept)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def load(path):
    """The model saved at `path`, or an InputError saying why not."""
    from bptt.models import load_model

    if not os.path.exists(path):
        raise InputError(f"no file {path!r}: give the path of a model written by model.save")
    if os.path.isdir(path):
        raise InputError(f"{path!r} is a folder: give the path of a model written by model.save")
    try:
        return load_model(path, compile=False)
    except (ValueError, KeyError, OSError) as error:  # not a model file, or not a readable one
        message = str(error)
        raise InputError(message if path in message else f"cannot load {path!r}: {message}")


def _summary(args):
    load(args.model).summary()


def _predict(args):
    texts = read_texts(args.texts, args.file)  # the input is checked before the model is read
    print_scores(load(args.model), texts)


def _report(args):
    cli_report.run(args, load)


def _info(args):
    import numpy
    from threadpoolctl import threadpool_info

    import bptt

    print(f"bptt {bptt.__version__}, numpy {numpy.__version__}, floatx {bptt.floatx()}, "
          f"kernels {bptt.get_kernels()}")
    pools = threadpool_info()
    for pool in pools:
        print(f"  {pool.get('internal_api')} {pool.get('version')} "
              f"({pool.get('architecture')}, {pool.get('num_threads')} threads): "
              f"{pool.get('filepath')}")
    if not any(pool.get("user_api") == "blas" for pool in pools):
        print("  no BLAS library that threadpoolctl can see")


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on failure, print the traceback too")
    layout = dict(epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser = _Parser(prog="bptt", description=__doc__, **layout)
    parser.add_argument("--debug", action="store_true", help="on failure, print the traceback too")
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", parents=[common], help="print a saved model's summary",
                                  **layout)
    summary.add_argument("model", help="a model file written by model.save")
    summary.set_defaults(run=_summary)
    predict_ = commands.add_parser("predict", parents=[common],
                                   help="score texts with a saved text model",
                                   description=cli_predict.__doc__, **layout)
    predict_.add_argument("model", help="a model file written by model.save")
    predict_.add_argument("texts", nargs="*", metavar="TEXT",
                          help="texts to score; with none and no --file, one per line on stdin")
    predict_.add_argument("--file", metavar="FILE",
                          help="score each line of FILE ('-': stdin); blank lines are skipped")
    predict_.set_defaults(run=_predict)
    report = commands.add_parser("report", parents=[common],
                                 help="one HTML page on a saved model and a few test examples",
                                 description=cli_report.__doc__, **layout)
    report.add_argument("model", help="a model file written by model.save")
    report.add_argument("--data", required=True, choices=cli_report.DATA,
                        help="the data set the model was trained on; its test examples are shown")
    report.add_argument("--examples", type=cli_report.count, default=3, metavar="N",
                        help="how many test examples to trace and draw (default 3)")
    report.add_argument("--out", metavar="PATH",
                        help="the HTML file to write (default: MODEL with .html)")
    report.add_argument("--history", metavar="FILE",
                        help="the CSV that bptt.callbacks.CSVLogger wrote during fit: the "
                             "training curves")
    report.set_defaults(run=_report)
    info = commands.add_parser("info", parents=[common], help="versions, kernels and BLAS",
                               **layout)
    info.set_defaults(run=_info)
    return parser


def _one_line(text):
    return " ".join(str(text).split())


def main(argv=None):
    """Run the command; its exit status (see EXIT_STATUS) is returned, not raised."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error argparse has printed
        return done.code or 0
    try:
        args.run(args)
        return 0
    except KeyboardInterrupt:
        print(f"bptt {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whatever read stdout has stopped (`| head`): stop quietly, as cat
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 1
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        if isinstance(error, InputError):
            status, message = 2, _one_line(error)
        else:  # a failure while running: say what it was, in one line
            status, message = 1, f"{type(error).__name__}: {_one_line(error)}"
            message += "" if args.debug else " (run again with --debug for the traceback)"
    print(f"bptt {args.command}: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
