"""examples/tagging.py --quick: the tagger on a slice of UD English-EWT learns (a model that
learned nothing tags at the rate of the most common tag, NOUN: about 17%), tags the example
sentences, and ends with its RESULT line. The treebank is fetched once (bptt.datasets.udpos)."""
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tagging.py"


def test_quick_tagging_run_learns_and_reports():
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    match = re.fullmatch(r"RESULT test_accuracy=(0\.\d{4})", lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 0.5
    assert any(line.startswith("Most confused (true -> predicted): ") for line in lines)
    assert any("/DET" in line for line in lines)  # the example sentences, tagged
