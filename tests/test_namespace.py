"""`import bptt as keras`: Keras 3's names resolve, the import stays light, and the Keras names
bptt does not have raise an AttributeError that says so."""
import json
import subprocess
import sys

import numpy as np
import pytest

import bptt
from bptt import _missing

# Keras paths that user code writes and bptt has (namespace, name); '' is the top level.
PRESENT = {
    "": "Sequential Model Input Layer Loss Metric Optimizer Initializer KerasTensor version "
        "activations backend callbacks datasets initializers layers losses metrics models "
        "optimizers preprocessing regularizers saving utils",
    "layers": "Layer Input InputLayer Dense Activation Dropout Flatten Embedding SimpleRNN LSTM "
              "GRU Bidirectional TimeDistributed Add Subtract Multiply Average Maximum Minimum "
              "Concatenate Dot add subtract multiply average maximum minimum concatenate dot "
              "RepeatVector Reshape Permute Cropping1D ZeroPadding1D UpSampling1D serialize "
              "deserialize",
    "models": "Sequential Model load_model clone_model",
    "utils": "set_random_seed pad_sequences to_categorical normalize clear_session Progbar",
    "optimizers": "Optimizer SGD Adam AdamW RMSprop get",
    "losses": "Loss BinaryCrossentropy CategoricalCrossentropy SparseCategoricalCrossentropy "
              "MeanSquaredError MeanAbsoluteError MeanAbsolutePercentageError "
              "MeanSquaredLogarithmicError Huber LogCosh Poisson KLDivergence "
              "binary_crossentropy categorical_crossentropy sparse_categorical_crossentropy "
              "mean_squared_error mean_absolute_error mean_absolute_percentage_error "
              "mean_squared_logarithmic_error huber log_cosh poisson kl_divergence get",
    "metrics": "Metric Mean MeanMetricWrapper Accuracy BinaryAccuracy CategoricalAccuracy "
               "SparseCategoricalAccuracy MeanSquaredError MeanAbsoluteError "
               "MeanAbsolutePercentageError MeanSquaredLogarithmicError LogCoshError "
               "RootMeanSquaredError KLDivergence Poisson BinaryCrossentropy "
               "CategoricalCrossentropy SparseCategoricalCrossentropy accuracy binary_accuracy "
               "categorical_accuracy sparse_categorical_accuracy mean_squared_error huber get",
    "callbacks": "Callback History ProgbarLogger EarlyStopping ModelCheckpoint TerminateOnNaN "
                 "ReduceLROnPlateau LearningRateScheduler LambdaCallback CSVLogger",
    "initializers": "Initializer Constant Zeros Ones Identity RandomUniform RandomNormal "
                    "TruncatedNormal VarianceScaling GlorotUniform GlorotNormal HeUniform "
                    "HeNormal LecunUniform LecunNormal Orthogonal constant zeros ones identity "
                    "glorot_uniform orthogonal get serialize deserialize",
    "activations": "relu sigmoid tanh hard_sigmoid linear softmax get serialize deserialize",
    "backend": "floatx set_floatx epsilon clear_session backend image_data_format get_uid",
    "preprocessing": "sequence",
    "datasets": "imdb",
}

# Keras 3.15's keras.layers exports (keras/api/layers/__init__.py) that other layers of bptt
# are being built for: they must never be announced as missing.
COMING = ("Conv1D Convolution1D MaxPooling1D MaxPool1D AveragePooling1D AvgPool1D "
          "GlobalMaxPooling1D GlobalMaxPool1D GlobalAveragePooling1D GlobalAvgPool1D "
          "SpatialDropout1D BatchNormalization LayerNormalization RNN SimpleRNNCell LSTMCell "
          "GRUCell StackedRNNCells TextVectorization Masking").split()


def _resolve(namespace, name):
    module = getattr(bptt, namespace) if namespace else bptt
    return getattr(module, name)


def test_import_bptt_loads_no_compiler_layers_or_models():
    code = ("import sys, json, bptt; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numba', 'scipy', 'llvmlite', 'bptt'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    assert not [m for m in loaded if not m.startswith("bptt")], loaded
    assert set(loaded) == {"bptt", "bptt.backend"}, loaded


def test_a_namespace_loads_on_first_use_and_is_kept():
    code = ("import sys, bptt; assert 'bptt.layers' not in sys.modules; "
            "layers = bptt.layers; assert 'bptt.layers' in sys.modules; "
            "assert vars(bptt)['layers'] is layers; "
            "assert bptt.Sequential is bptt.models.Sequential; "
            "assert vars(bptt)['Sequential'] is bptt.Sequential")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("namespace", sorted(PRESENT))
def test_every_listed_keras_name_resolves(namespace):
    for name in PRESENT[namespace].split():
        assert _resolve(namespace, name) is not None, f"{namespace}.{name}"


def test_top_level_classes_are_the_namespaces_own():
    assert bptt.Model is bptt.models.Model
    assert bptt.Input is bptt.layers.Input
    assert bptt.Layer is bptt.layers.Layer
    assert bptt.Loss is bptt.losses.Loss
    assert bptt.version() == bptt.__version__
    assert bptt.preprocessing.sequence.pad_sequences is bptt.utils.pad_sequences
    assert bptt.utils.clear_session is bptt.backend.clear_session


def test_from_imports_keep_working():
    from bptt.layers import LSTM, Dense  # noqa: F401
    from bptt.models import Sequential  # noqa: F401
    from bptt.preprocessing import sequence

    assert sequence.pad_sequences([[1], [2, 3]]).tolist() == [[0, 1], [2, 3]]


@pytest.mark.parametrize("namespace", sorted(_missing._TABLES))
def test_missing_keras_names_say_so_and_what_to_use(namespace):
    if namespace == "models":  # bptt.models' own module decides; its table is tested below
        return
    module = getattr(bptt, namespace) if namespace else bptt
    for name, alternative in _missing._TABLES[namespace].items():
        path = f"keras.{namespace}.{name}" if namespace else f"keras.{name}"
        with pytest.raises(AttributeError) as error:
            getattr(module, name)
        text = str(error.value)
        assert text.startswith(f"{path}: bptt does not have it; "), text
        assert text.endswith(alternative) and ". " not in text, text  # one sentence
        assert not hasattr(module, name)


def test_missing_lists_hold_no_name_bptt_has_or_is_building():
    for namespace, table in _missing._TABLES.items():
        present = set(PRESENT.get(namespace, "").split())
        assert not present & set(table), (namespace, present & set(table))
    assert not set(COMING) & set(_missing.LAYERS)
    assert _missing.message("models", "model_from_json") is None  # bptt has it


def test_unknown_names_keep_pythons_own_error():
    for module in (bptt, bptt.layers, bptt.losses, bptt.utils):
        with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
            getattr(module, "NoSuchThing")
    with pytest.raises(AttributeError, match="has no attribute '__wrapped__'"):
        getattr(bptt.layers, "__wrapped__")


def test_keras_ops_points_to_numpy_and_bptt_ops_modules_still_load():
    with pytest.raises(AttributeError, match=r"keras.ops.mean: bptt does not have it.*np.mean"):
        getattr(bptt.ops, "mean")
    assert callable(bptt.ops.lstm.lstm_forward)


def test_from_import_of_a_missing_layer_is_an_import_error():
    # Python turns the AttributeError of `from m import x` into its own ImportError.
    with pytest.raises(ImportError, match="Conv2D"):
        from bptt.layers import Conv2D  # noqa: F401


def test_clear_session_restarts_automatic_names():
    from bptt import backend, layers

    backend.clear_session()
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert backend.get_uid("dense") == 4  # Keras' get_uid: the count, this use included
    assert layers.Dense(1).name == "dense_4"
    backend.clear_session(free_memory=False)
    assert layers.Dense(1).name == "dense"
    assert backend.get_uid("lstm") == 1 and layers.LSTM(2).name == "lstm_1"
    backend.clear_session()


def test_backend_constants_are_keras_defaults():
    assert bptt.backend.epsilon() == 1e-7
    assert bptt.backend.image_data_format() == "channels_last"
    assert bptt.backend.backend() == "numpy"


def test_utils_normalize_is_unit_norm_along_the_axis():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(bptt.utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(bptt.utils.normalize(x, axis=0, order=1), [[1.0, 1.0], [0, 0]])


def test_regularizer_arguments_are_refused_with_the_layer_error():
    with pytest.raises(NotImplementedError, match=r"Dense\(kernel_regularizer=\.\.\.\) is not"):
        bptt.layers.Dense(2, kernel_regularizer="l2")
