"""The functional models of the Keras golden cases, written once as Keras code.

`builders(keras)` runs the same code against the `keras` it is given: Keras itself in
tests/data/make_keras_golden_functional.py (which writes the golden files), bptt in
tests/test_keras_golden_functional.py (which must reproduce them).
"""


def builders(keras):
    """{case name: a function that builds and compiles that case's model}."""
    def build_encoder_decoder():
        encoder_inputs = keras.Input((None, 6))
        _, state_h, state_c = keras.layers.LSTM(8, return_state=True)(encoder_inputs)
        decoder_inputs = keras.Input((None, 7))
        decoder_outputs, _, _ = keras.layers.LSTM(8, return_sequences=True, return_state=True)(
            decoder_inputs, initial_state=[state_h, state_c])
        decoder_outputs = keras.layers.Dense(7, activation="softmax")(decoder_outputs)
        model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
        return model


    def build_shared_multi_input():
        first = keras.Input((5,), dtype="int32")
        second = keras.Input((4,), dtype="int32")
        embedding = keras.layers.Embedding(20, 6)
        encoder = keras.layers.GRU(5)
        merged = keras.layers.Concatenate()([encoder(embedding(first)), encoder(embedding(second))])
        main = keras.layers.Dense(1, activation="sigmoid", name="main")(merged)
        aux = keras.layers.Dense(3, activation="softmax", name="aux")(merged)
        model = keras.Model([first, second], [main, aux])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                      loss={"main": "binary_crossentropy", "aux": "sparse_categorical_crossentropy"},
                      loss_weights={"main": 1.0, "aux": 0.3},
                      metrics={"main": ["accuracy"], "aux": ["accuracy"]})
        return model


    def build_repeatvector_seq2seq():
        inputs = keras.Input((7, 5))
        x = keras.layers.LSTM(8)(inputs)
        x = keras.layers.RepeatVector(3)(x)
        x = keras.layers.LSTM(8, return_sequences=True)(x)
        outputs = keras.layers.TimeDistributed(keras.layers.Dense(5, activation="softmax"))(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model


    def build_stateful():
        inputs = keras.Input(batch_shape=(2, 4, 3))
        x = keras.layers.LSTM(5, stateful=True, return_sequences=True, name="stateful_lstm")(inputs)
        outputs = keras.layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
        return model


    def build_conv1d_lstm():
        inputs = keras.Input((12, 3))
        x = keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu")(inputs)
        x = keras.layers.MaxPooling1D(2)(x)
        x = keras.layers.Conv1D(5, 2, strides=2, padding="same")(x)
        x = keras.layers.LSTM(6)(x)
        outputs = keras.layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse")
        return model


    def build_bidirectional_states():
        inputs = keras.Input((5, 3))
        out, forward_h, forward_c, backward_h, backward_c = keras.layers.Bidirectional(
            keras.layers.LSTM(4, return_state=True))(inputs)
        # Every state is used, so each gets a gradient: the cell states beside the output.
        first = keras.layers.Dense(2)(
            keras.layers.Concatenate()([out, forward_c, backward_c]))
        second = keras.layers.Add()([forward_h, backward_h])
        model = keras.Model(inputs, [first, second])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=["mse", "mse"])
        return model


    def build_stacked_cells():
        inputs = keras.Input((6, 3))
        outputs = keras.layers.RNN([keras.layers.LSTMCell(4), keras.layers.GRUCell(3)],
                                   return_state=True)(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="mse")
        return model


    def build_nested():
        block = keras.Sequential([keras.layers.Dense(4)], name="block")
        inner_inputs = keras.Input((4,))
        inner_outputs = keras.layers.Dense(3, activation="tanh")(inner_inputs)
        inner = keras.Model(inner_inputs, inner_outputs, name="inner")
        inputs = keras.Input((5,))
        x = block(inputs)
        x = inner(x)
        outputs = keras.layers.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
        return model

    return {name[len("build_"):]: fn for name, fn in locals().items()
            if name.startswith("build_")}


def pack(name, xs, ys):
    """The inputs and targets as the model is fed: a dict for named outputs, the nested
    structure the stacked RNN returns (output, [lstm_h, lstm_c], gru_h)."""
    x = xs if len(xs) > 1 else xs[0]
    if name == "shared_multi_input":
        return x, {"main": ys[0], "aux": ys[1]}
    if name == "stacked_cells":
        return x, (ys[0], [ys[1], ys[2]], ys[3])
    return x, (ys if len(ys) > 1 else ys[0])
