"""bptt.config: Keras' config names, and the kernels' thread count."""
import pytest

import bptt
from bptt import config
from bptt.kernels import threads


def test_keras_config_names_answer_as_keras_does():
    assert bptt.config is config
    assert config.floatx() == "float32" and config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last" and config.backend() == "numpy"


def test_set_num_threads_sets_the_kernels_threads(monkeypatch):
    monkeypatch.setattr(threads, "_REQUESTED", None)
    default = config.get_num_threads()
    config.set_num_threads(1)
    assert config.get_num_threads() == 1 and threads.limit() == 1
    config.set_num_threads(None)
    assert config.get_num_threads() == default


def test_a_keras_config_name_bptt_lacks_says_so():
    with pytest.raises(AttributeError, match="set_epsilon: bptt does not have it"):
        config.set_epsilon(1e-5)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_setting'"):
        config.no_such_setting
