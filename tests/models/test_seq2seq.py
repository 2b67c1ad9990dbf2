"""The character-level encoder-decoder of Keras' "sequence to sequence learning" example, built
with the functional API as Keras users write it: trained with teacher forcing, then split into an
encoder model and a one-step decoder model that share the trained layers and decode greedily.

The task is small enough to learn in seconds and leaves no doubt whether it was learned: write a
string of digits backwards ("4071" -> "1704")."""
import numpy as np

from bptt import layers, models, optimizers

DIGITS = "0123456789"
START, END = "\t", "\n"
CHARS = DIGITS + START + END
INDEX = {c: i for i, c in enumerate(CHARS)}


def _one_hot(texts, steps):
    out = np.zeros((len(texts), steps, len(CHARS)), dtype="float32")
    for row, text in enumerate(texts):
        for t, char in enumerate(text):
            out[row, t, INDEX[char]] = 1
    return out


def _data(rng, n, length=4):
    sources = ["".join(rng.choice(list(DIGITS), length)) for _ in range(n)]
    targets = [START + s[::-1] + END for s in sources]
    decoder_in = _one_hot(targets, length + 2)
    decoder_out = np.roll(decoder_in, -1, axis=1)  # the next character at every step
    decoder_out[:, -1] = 0
    return sources, _one_hot(sources, length), decoder_in, decoder_out


def test_encoder_decoder_trains_and_decodes():
    rng = np.random.default_rng(3)
    units, width = 64, len(CHARS)
    encoder_inputs = layers.Input((None, width))
    _, state_h, state_c = layers.LSTM(units, return_state=True)(encoder_inputs)
    decoder_inputs = layers.Input((None, width))
    decoder_lstm = layers.LSTM(units, return_sequences=True, return_state=True)
    decoder_seq, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_dense = layers.Dense(width, activation="softmax")
    model = models.Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_seq))
    model.compile(optimizer=optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    _, x_enc, x_dec, y = _data(rng, 2000)
    history = model.fit([x_enc, x_dec], y, batch_size=64, epochs=12, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]

    # Inference: the encoder gives the states; the decoder runs one character at a time.
    encoder = models.Model(encoder_inputs, [state_h, state_c])
    h_in, c_in = layers.Input((units,)), layers.Input((units,))
    step_seq, h_out, c_out = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
    decoder = models.Model([decoder_inputs, h_in, c_in], [decoder_dense(step_seq), h_out, c_out])

    sources, x_test, _, _ = _data(np.random.default_rng(99), 100)
    h, c = encoder.predict(x_test, verbose=0)
    token = _one_hot([START] * len(sources), 1)
    decoded = [""] * len(sources)
    for _ in range(5):
        probs, h, c = decoder.predict([token, h, c], verbose=0)
        chars = probs[:, -1].argmax(axis=-1)
        for row, char in enumerate(chars):
            decoded[row] += CHARS[char]
        token = np.eye(width, dtype="float32")[chars][:, None]
    right = sum(out.split(END)[0] == src[::-1] for out, src in zip(decoded, sources))
    assert right >= 90, f"{right}/100 strings reversed; e.g. {sources[:3]} -> {decoded[:3]}"
