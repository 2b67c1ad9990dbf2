"""bptt.utils.Progbar is Keras' keras.utils.Progbar: its arguments in Keras' order, and Keras'
rule for the values shown (keras/src/utils/progbar.py): a name's values are averaged over the
steps, each value counting for the steps since the previous update, unless the name is
stateful; the final update shows the values it is given."""
import io
import re

import pytest

from bptt import utils


class Terminal(io.StringIO):
    def isatty(self):
        return True


def shown(stream):
    """The last drawing on a terminal, without colours."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())
    return re.split(r"[\r\n]", text.rstrip("\n"))[-1]


def bar(*args, **kwargs):
    stream = Terminal()
    return utils.Progbar(*args, interval=0, stream=stream, **kwargs), stream


def test_values_are_averaged_over_the_steps_they_stand_for():
    progbar, stream = bar(10)
    progbar.update(1, [("loss", 2.0)])
    progbar.update(3, [("loss", 4.0)])  # stands for steps 2 and 3
    assert shown(stream).endswith("- loss: 3.3333")  # (2 x 1 + 4 x 2) / 3
    progbar.add(1, [("loss", 6.0)])
    assert shown(stream).endswith("- loss: 4.0000")  # (2 + 8 + 6) / 4
    assert shown(stream).startswith(" 4/10 ")


def test_stateful_names_and_the_final_update_are_shown_as_given():
    progbar, stream = bar(4, stateful_metrics=["acc"])
    progbar.update(1, [("loss", 1.0), ("acc", 0.5)])
    progbar.update(2, {"loss": 3.0, "acc": 0.75})  # a dict of the same pairs is taken too
    assert shown(stream).endswith("- loss: 2.0000 - acc: 0.7500")
    progbar.update(4, [("loss", 10.0), ("acc", 0.25)])  # reaches the target: finalized
    assert shown(stream).endswith("- loss: 10.0000 - acc: 0.2500")
    assert stream.getvalue().endswith("\n")


def test_stateless_metrics_names_the_ones_to_average():
    progbar, stream = bar(4, stateless_metrics={"loss"})
    progbar.update(1, [("loss", 1.0), ("acc", 0.5)])
    progbar.update(2, [("loss", 3.0), ("acc", 0.75)])
    assert shown(stream).endswith("- loss: 2.0000 - acc: 0.7500")
    with pytest.raises(ValueError, match="not both"):
        utils.Progbar(4, stateful_metrics=["a"], stateless_metrics=["b"])


def test_arguments_in_keras_order_an_unknown_target_and_the_unit():
    progbar, stream = bar(None, 10, 1, unit_name="sample")  # target, width, verbose
    progbar.update(5)
    assert re.fullmatch(r"\s+5/Unknown \d+s \d+(us|ms|s)/sample", shown(stream))
    progbar, stream = bar(8, 10)
    progbar.update(4)
    assert shown(stream).startswith("4/8 " + "━" * 10)  # half of the 10 green, half grey


def test_verbose_2_prints_one_line_when_finalized():
    progbar, stream = bar(3, verbose=2)
    progbar.update(1, [("loss", 1.0)])
    assert stream.getvalue() == ""
    progbar.update(3, [("loss", 0.5)])
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms|s)/step - loss: 0\.5000\n", stream.getvalue())
