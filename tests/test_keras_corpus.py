"""Real Keras recurrent-network programs run on bptt with only their imports changed.

Each program in examples/keras_corpus/ is plain Keras 3 code (it runs under Keras itself:
examples/keras_corpus/run_corpus.py runs both sides). Here each one runs under bptt, its
`keras` imports rewritten to `bptt` imports in memory, in a fresh interpreter, and must exit 0
having printed its `RESULT <name> <number>` line.
"""
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "keras_corpus"


def _load_runner():
    spec = importlib.util.spec_from_file_location("run_corpus", CORPUS / "run_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
TIMEOUT_S = 120
PROGRAMS = runner.programs()


def test_corpus_has_twenty_plain_keras_programs():
    names = runner.programs()
    assert len(names) == 20, names
    for name in names:
        source = (CORPUS / f"{name}.py").read_text()
        assert "bptt" not in source, f"{name}.py must be plain Keras code"
        assert "keras.datasets" not in source, f"{name}.py must need no download"
        assert f'"RESULT {name}"' in source, f"{name}.py must print its RESULT line"
        assert runner.rewrite_imports(source) != source, f"{name}.py imports no keras"


def test_rewrite_imports_changes_only_keras_imports():
    source = ("import keras\n"
              "import keras as K\n"
              "from keras import layers\n"
              "from keras.layers import LSTM, Dense\r\n"
              "from keras.preprocessing import sequence\n"
              "    import keras\n"
              "import keras.layers as kl\n"
              "import kerasy\n"
              "from keras_hub import models\n"
              "x = 'import keras'\n")
    assert runner.rewrite_imports(source) == (
        "import bptt as keras\n"
        "import bptt as K\n"
        "from bptt import layers\n"
        "from bptt.layers import LSTM, Dense\r\n"
        "from bptt.preprocessing import sequence\n"
        "    import bptt as keras\n"
        "import bptt.layers as kl\n"
        "import kerasy\n"
        "from keras_hub import models\n"
        "x = 'import keras'\n")


def test_result_line_and_error_summary_are_read_back():
    assert runner.result_value("loss 3\nRESULT toy 0.25\n", "toy") == 0.25
    assert runner.result_value("RESULT other 0.25\n", "toy") is None
    stderr = ('Traceback (most recent call last):\n'
              '  File "/tmp/x/toy.py", line 7, in <module>\n'
              '    model = keras.Sequential()\n'
              "AttributeError: module 'bptt' has no attribute 'Sequential'\n")
    error, where = runner.error_summary(stderr, "toy.py")
    assert error == "AttributeError: module 'bptt' has no attribute 'Sequential'"
    assert where == "line 7: model = keras.Sequential()"


@pytest.mark.parametrize("name", PROGRAMS)
def test_keras_program_runs_on_bptt(name, tmp_path):
    source = runner.rewrite_imports((CORPUS / f"{name}.py").read_text())
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    error, where = runner.error_summary(done.stderr, path.name)
    assert done.returncode == 0, (
        f"{name}.py (Keras code, imports rewritten) failed on bptt: {error}"
        f"{f' at {where}' if where else ''}\n--- stderr tail ---\n{done.stderr[-2000:]}")
    value = runner.result_value(done.stdout, name)
    assert value is not None, f"{name}.py printed no RESULT line:\n{done.stdout[-2000:]}"
    assert math.isfinite(value), f"{name}.py's RESULT is {value}"
