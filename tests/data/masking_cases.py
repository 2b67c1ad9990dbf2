"""The masked models of the Keras golden cases, written once as Keras code.

`builders(keras)` runs the same code against the `keras` it is given: Keras itself in
tests/data/make_keras_golden_masking.py (which writes the golden files), bptt in
tests/test_keras_golden_masking.py (which must reproduce them).

Every sequence is T = 6 steps of integer ids with 0 as padding (the float case pads with
all-zero steps), and every batch mixes pre-padded rows, post-padded rows, a row without
padding and one row that is all padding (the generator's `ROW_KINDS`).
"""

T = 6  # time steps of every input
VOCAB = 10  # ids 1..9 are tokens, 0 is padding
FEATURES = 2  # features per step of the float input (Masking case)

# Cases fed by predict() only: no compile, no targets, no training.
PREDICT_ONLY = ("lstm_states", "bidirectional_gru_states")


def builders(keras):
    """{case name: a function that builds (and, unless predict-only, compiles) that model}."""
    L = keras.layers

    def ids():
        return keras.Input((T,), dtype="int32")

    def embedded(inputs, dim=3):
        return L.Embedding(VOCAB, dim, mask_zero=True)(inputs)

    def build_simplernn_tagging():  # a: per-step loss and metric under the mask
        inputs = ids()
        x = L.SimpleRNN(4, return_sequences=True)(embedded(inputs))
        outputs = L.TimeDistributed(L.Dense(3, activation="softmax"))(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def build_lstm_last():  # b: the last real step's output, one label per row
        inputs = ids()
        x = L.LSTM(4)(embedded(inputs))
        outputs = L.Dense(1, activation="sigmoid")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model

    def build_gru_backwards_stack():  # c: a reversed sequence (and its mask) into another GRU
        inputs = ids()
        x = L.GRU(4, reset_after=True, return_sequences=True, go_backwards=True)(
            embedded(inputs))
        x = L.GRU(3, reset_after=False)(x)
        outputs = L.Dense(2)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse",
                      metrics=["mae"])
        return model

    def build_bidirectional_weighted():  # d: temporal sample_weight together with the mask
        inputs = ids()
        x = L.Bidirectional(L.LSTM(3, return_sequences=True))(embedded(inputs))
        outputs = L.TimeDistributed(L.Dense(4, activation="softmax"))(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      weighted_metrics=["accuracy"])
        return model

    def build_masking_layer():  # e: float steps equal to mask_value are padding
        inputs = keras.Input((T, FEATURES))
        x = L.Masking(mask_value=0.0)(inputs)
        x = L.LSTM(4, return_sequences=True)(x)
        outputs = L.Dense(1)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="mse",
                      metrics=["mae"])
        return model

    def two_branches(merge):  # f: how a merge layer combines its inputs' masks
        first, second = ids(), ids()
        a = L.LSTM(4, return_sequences=True)(embedded(first))
        b = L.LSTM(4, return_sequences=True)(embedded(second))
        outputs = L.Dense(1)(merge([a, b]))
        model = keras.Model([first, second], outputs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
                      metrics=["mae"])
        return model

    def build_merge_concatenate():
        return two_branches(L.Concatenate())

    def build_merge_add():
        return two_branches(L.Add())

    def pooled(pooling, conv=False):  # g: a pooling layer (or a Conv1D) meets the mask
        inputs = ids()
        x = embedded(inputs)
        if conv:
            x = L.Conv1D(3, 2, padding="same")(x)
        x = L.LSTM(4, return_sequences=True)(x)
        outputs = L.Dense(1, activation="sigmoid")(pooling(x))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model

    def build_pool_average():
        return pooled(L.GlobalAveragePooling1D())

    def build_pool_max():
        return pooled(L.GlobalMaxPooling1D())

    def build_conv1d_pool_average():
        return pooled(L.GlobalAveragePooling1D(), conv=True)

    def build_lstm_states():  # h: the states a masked LSTM returns
        inputs = ids()
        outputs = L.LSTM(4, return_sequences=True, return_state=True)(embedded(inputs))
        return keras.Model(inputs, outputs)

    def build_bidirectional_gru_states():
        inputs = ids()
        outputs = L.Bidirectional(L.GRU(3, return_state=True))(embedded(inputs))
        return keras.Model(inputs, outputs)

    return {name[len("build_"):]: fn for name, fn in locals().items()
            if name.startswith("build_")}


# Every layer bptt has, called on a masked (B, T, 3) sequence: what each does with the mask
# (keeps it, changes it, drops it with a warning, or drops it silently). Each entry makes the
# layer from the `layers` module it is given; merge layers (MERGED) take [x, x].
MASK_LAYERS = {
    "Dense(2)": lambda L: L.Dense(2),
    "Activation('relu')": lambda L: L.Activation("relu"),
    "Dropout(0.5)": lambda L: L.Dropout(0.5),
    "SpatialDropout1D(0.5)": lambda L: L.SpatialDropout1D(0.5),
    "Flatten()": lambda L: L.Flatten(),
    "Reshape((3, 6))": lambda L: L.Reshape((3, 6)),
    "Permute((2, 1))": lambda L: L.Permute((2, 1)),
    "Cropping1D(1)": lambda L: L.Cropping1D(1),
    "ZeroPadding1D(1)": lambda L: L.ZeroPadding1D(1),
    "UpSampling1D(2)": lambda L: L.UpSampling1D(2),
    "Conv1D(2, 2, padding='same')": lambda L: L.Conv1D(2, 2, padding="same"),
    "MaxPooling1D(2)": lambda L: L.MaxPooling1D(2),
    "AveragePooling1D(2)": lambda L: L.AveragePooling1D(2),
    "GlobalMaxPooling1D()": lambda L: L.GlobalMaxPooling1D(),
    "GlobalAveragePooling1D()": lambda L: L.GlobalAveragePooling1D(),
    "BatchNormalization()": lambda L: L.BatchNormalization(),
    "LayerNormalization()": lambda L: L.LayerNormalization(),
    "TimeDistributed(Dense(2))": lambda L: L.TimeDistributed(L.Dense(2)),
    "SimpleRNN(2, return_sequences=True)": lambda L: L.SimpleRNN(2, return_sequences=True),
    "SimpleRNN(2)": lambda L: L.SimpleRNN(2),
    "LSTM(2, return_state=True)": lambda L: L.LSTM(2, return_state=True),
    "LSTM(2, return_sequences=True, return_state=True)":
        lambda L: L.LSTM(2, return_sequences=True, return_state=True),
    "Bidirectional(GRU(2, return_sequences=True))":
        lambda L: L.Bidirectional(L.GRU(2, return_sequences=True)),
    "Dot(axes=2)": lambda L: L.Dot(axes=2),
    "Multiply()": lambda L: L.Multiply(),
    "Maximum()": lambda L: L.Maximum(),
}
MERGED = ("Dot(axes=2)", "Multiply()", "Maximum()")
