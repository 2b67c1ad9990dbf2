"""Keras' layers, with Keras' names: `from bptt import layers` then `layers.LSTM(64)`."""
from bptt.layers.base import Layer
from bptt.layers.convolutional import Conv1D
from bptt.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer
from bptt.layers.embedding import Embedding
from bptt.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                 Subtract, add, average, concatenate, dot, maximum, minimum,
                                 multiply, subtract)
from bptt.layers.normalization import BatchNormalization, LayerNormalization
from bptt.layers.pooling import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D,
                                 GlobalAvgPool1D, GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D,
                                 MaxPooling1D)
from bptt.layers.recurrent import GRU, LSTM, SimpleRNN
from bptt.layers.regularization import SpatialDropout1D
from bptt.layers.reshaping import (Cropping1D, Permute, RepeatVector, Reshape, UpSampling1D,
                                   ZeroPadding1D)
from bptt.layers.rnn import RNN, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from bptt.layers.masking import Masking
from bptt.layers.text_vectorization import TextVectorization
from bptt.layers.wrappers import Bidirectional, TimeDistributed

LAYERS = {
    cls.__name__: cls
    for cls in (Activation, Dense, Dropout, Flatten, InputLayer, Embedding, GRU, LSTM, SimpleRNN,
                Bidirectional, TimeDistributed, RNN, SimpleRNNCell, LSTMCell, GRUCell,
                StackedRNNCells,
                Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
                Cropping1D, Permute, RepeatVector, Reshape, UpSampling1D, ZeroPadding1D,
                Conv1D, MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D,
                GlobalAveragePooling1D, BatchNormalization, LayerNormalization, SpatialDropout1D,
                TextVectorization, Masking)
}
# Keras' second names for the pooling layers (the same classes).
LAYERS.update(MaxPool1D=MaxPool1D, AvgPool1D=AvgPool1D, GlobalMaxPool1D=GlobalMaxPool1D,
              GlobalAvgPool1D=GlobalAvgPool1D)


def serialize(layer):
    """{'class_name': ..., 'config': {...}}, JSON-safe: initializer instances in the config
    (kernel_initializer=initializers.Constant(0.1), in a wrapped layer too) become their
    {'class_name', 'config'} dicts, which `initializers.get` reads back."""
    from bptt import initializers

    return {"class_name": type(layer).__name__,
            "config": initializers.serialize_config(layer.get_config())}


def deserialize(config):
    """A layer from {'class_name': ..., 'config': {...}}, as written by `serialize`."""
    name = config.get("class_name")
    if name not in LAYERS:
        raise ValueError(f"Unknown layer class {name!r}; known: {sorted(LAYERS)}.")
    return LAYERS[name].from_config(dict(config["config"]))


__all__ = ["Layer", *LAYERS, "Input", "serialize", "deserialize",
           "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]


def __getattr__(name):
    """Keras' names bptt does not have: an AttributeError that says so and what to use."""
    from bptt import _missing

    _missing.refuse(__name__, "layers", name)
