"""Run every Keras program of this folder twice: as written, under real Keras, and with only its
`keras` imports turned into `bptt` imports, under bptt. Prints a table and writes it as JSON.

    python examples/keras_corpus/run_corpus.py --keras-python /path/to/keras-venv/bin/python \\
        --out corpus.json [--only addition_rnn stateful_lstm] [--skip-keras]

A program "ran" when it exited 0 and printed its `RESULT <name> <number>` line. Where a program
is deterministic (constant initializers, no shuffling) the two RESULT numbers should agree;
otherwise they differ by the random initial weights and only their size means anything.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# `import keras` / `import keras as k` / `import keras.layers as kl`
_IMPORT = re.compile(r"^(\s*)import keras(\.[\w.]+)?(\s+as\s+\w+)?\s*$")
# `from keras import x` / `from keras.layers import x, y`
_FROM = re.compile(r"^(\s*)from keras(\.[\w.]+)? import ")


def rewrite_imports(source):
    """The program with each `keras` import made a `bptt` import; every other line as it was.

    `import keras` -> `import bptt as keras` (so `keras.layers.LSTM` still reads the same),
    `from keras import layers` -> `from bptt import layers`,
    `from keras.layers import LSTM` -> `from bptt.layers import LSTM`.
    """
    lines = []
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        match = _IMPORT.match(body)
        if match:
            indent, submodule, alias = match.groups()
            if submodule is None:
                alias = alias.strip() if alias else "as keras"
                body = f"{indent}import bptt {alias}"
            elif alias:
                body = f"{indent}import bptt{submodule} {alias.strip()}"
            else:  # `import keras.layers` binds the name `keras`: bind it to bptt too
                body = f"{indent}import bptt{submodule}; import bptt as keras"
        else:
            body = _FROM.sub(lambda m: f"{m.group(1)}from bptt{m.group(2) or ''} import ", body)
        lines.append(body + end)
    return "".join(lines)


# The submodules Keras code reaches as attributes (`keras.utils.pad_sequences`).
KERAS_NAMESPACES = ("layers", "models", "utils", "callbacks", "optimizers", "losses",
                    "initializers", "metrics", "saving", "preprocessing", "activations", "ops")


def preload_line(package_dir=REPO / "bptt"):
    """One line importing every bptt submodule named like a Keras namespace that exists, so a
    program gets past `keras.utils` even where `bptt/__init__.py` does not import it yet."""
    names = [n for n in KERAS_NAMESPACES
             if (package_dir / n).is_dir() or (package_dir / f"{n}.py").is_file()]
    return "import " + ", ".join(f"bptt.{n}" for n in names) + "\n"


def programs():
    """The corpus: every .py file here but this runner, by name."""
    return sorted(p.stem for p in HERE.glob("*.py") if p.name != Path(__file__).name)


def result_value(stdout, name):
    """The number of the program's `RESULT <name> <number>` line, or None."""
    for line in reversed(stdout.splitlines()):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT" and parts[1] == name:
            try:
                return float(parts[2])
            except ValueError:
                return None
    return None


def error_summary(stderr, program_file, line_offset=0):
    """(the exception line, the program's line that raised it) from a traceback, else the last
    line of stderr. `line_offset`: lines put before the program's own first line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "", None
    where = None
    for i, line in enumerate(lines):
        found = re.match(r'\s*File "(.+)", line (\d+)', line)
        if found and Path(found.group(1)).name == program_file:
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            where = f"line {int(found.group(2)) - line_offset}: {code}"
    exception = next((line for line in reversed(lines)
                      if re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt|Warning)\b", line)),
                     lines[-1])
    return exception.strip(), where


def run_program(python, source, name, timeout, env, line_offset=0):
    """Run `source` as `<name>.py` in a fresh temporary directory; what came of it."""
    with tempfile.TemporaryDirectory(prefix=f"corpus_{name}_") as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(source)
        start = time.perf_counter()
        try:
            done = subprocess.run([python, str(path)], cwd=tmp, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            seconds = time.perf_counter() - start
            return {"ran": False, "seconds": round(seconds, 1), "result": None,
                    "error": f"timed out after {timeout} s", "where": None,
                    "stdout_tail": (exc.stdout or b"")[-2000:].decode(errors="replace")
                    if isinstance(exc.stdout, bytes) else (exc.stdout or "")[-2000:]}
        seconds = time.perf_counter() - start
    value = result_value(done.stdout, name)
    ran = done.returncode == 0 and value is not None
    error, where = ("", None) if ran else error_summary(done.stderr, f"{name}.py",
                                                              line_offset)
    if not ran and not error:
        error = f"exit {done.returncode}, no RESULT line"
    return {"ran": ran, "seconds": round(seconds, 1), "result": value, "error": error,
            "where": where, "stderr_tail": "" if ran else done.stderr[-3000:]}


def wait_for(path, seconds):
    deadline = time.time() + seconds
    while not path.exists():
        if time.time() > deadline:
            return False
        time.sleep(10)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keras-python", default="/work/keras-venv/bin/python",
                        help="a python whose environment has Keras 3 (and its backend)")
    parser.add_argument("--bptt-python", default=sys.executable,
                        help="a python whose environment has bptt (default: this one)")
    parser.add_argument("--out", help="write the table here as JSON")
    parser.add_argument("--only", nargs="+", help="run only these programs")
    parser.add_argument("--skip-keras", action="store_true", help="run the bptt side only")
    parser.add_argument("--skip-bptt", action="store_true", help="run the Keras side only")
    parser.add_argument("--preload", action="store_true",
                        help="diagnosis, not the measure: import bptt's Keras-named submodules "
                             "before each bptt run, to see what fails after the namespace")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per run")
    parser.add_argument("--wait-ready", type=float, default=0.0,
                        help="wait up to this many seconds for a .ready file beside the Keras "
                             "python's venv before starting")
    args = parser.parse_args(argv)

    names = args.only or programs()
    unknown = sorted(set(names) - set(programs()))
    if unknown:
        parser.error(f"no such program(s): {unknown}; known: {programs()}")
    if not args.skip_keras and args.wait_ready:
        # the venv's own folder: resolve() would follow bin/python to the base interpreter
        ready = Path(args.keras_python).absolute().parent.parent / ".ready"
        if not wait_for(ready, args.wait_ready):
            parser.error(f"{ready} did not appear within {args.wait_ready:.0f} s")

    keras_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    keras_env.setdefault("KERAS_BACKEND", "tensorflow")
    bptt_env = dict(os.environ)
    bptt_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])

    rows = []
    for name in names:
        source = (HERE / f"{name}.py").read_text()
        row = {"program": name}
        if not args.skip_keras:
            row["keras"] = run_program(args.keras_python, source, name, args.timeout, keras_env)
        if not args.skip_bptt:
            prefix = preload_line() if args.preload else ""
            row["bptt"] = run_program(args.bptt_python, prefix + rewrite_imports(source), name,
                                      args.timeout, bptt_env, line_offset=prefix.count("\n"))
        rows.append(row)
        print(format_row(row), flush=True)

    print()
    print(format_table(rows))
    if args.out:
        Path(args.out).write_text(json.dumps({"programs": rows, "summary": summary(rows)},
                                             indent=2) + "\n")
    return 0


def _mark(side):
    if side is None:
        return "-"
    return "yes" if side["ran"] else "NO"


def format_row(row):
    keras, bptt = row.get("keras"), row.get("bptt")
    error = "" if bptt is None or bptt["ran"] else bptt["error"][:110]
    return f"{row['program']:32s} keras {_mark(keras):3s}  bptt {_mark(bptt):3s}  {error}"


def summary(rows):
    counts = {}
    for side in ("keras", "bptt"):
        runs = [row[side] for row in rows if side in row]
        if runs:
            counts[side] = {"ran": sum(r["ran"] for r in runs), "of": len(runs)}
    return counts


def format_table(rows):
    out = ["| program | Keras ran | bptt ran | Keras RESULT | bptt RESULT | bptt error |",
           "|---|---|---|---|---|---|"]
    for row in rows:
        keras, bptt = row.get("keras"), row.get("bptt")

        def value(side):
            return "" if side is None or side["result"] is None else f"{side['result']:.4g}"

        error = ""
        if bptt is not None and not bptt["ran"]:
            error = bptt["error"].replace("|", "\\|")[:160]
            if bptt.get("where"):
                where = bptt["where"].replace("|", "\\|")[:80]
                error += f" ({where})"
        out.append(f"| {row['program']} | {_mark(keras)} | {_mark(bptt)} | {value(keras)} "
                   f"| {value(bptt)} | {error} |")
    counts = summary(rows)
    out.append("")
    out.append(", ".join(f"{side}: {c['ran']}/{c['of']} ran" for side, c in counts.items()))
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
