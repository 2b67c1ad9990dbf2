"""Cross-batch statefulness (keras-io guide "Working with RNNs": "Cross-batch statefulness" and
"RNN state reuse"; the stateful LSTM pattern of long series cut into consecutive chunks).

A stateful LSTM layer called directly on NumPy paragraphs keeps its state from call to call,
until layer.reset_states(); its `states` start another layer via initial_state. Then a
stateful model with a fixed batch (keras.Input(batch_shape=...)) is trained on four long
waves cut into chunks, shuffle=False so sample i of each batch continues sample i of the one
before, its LSTM's states reset between epochs and before predicting a wave chunk by chunk.
"""
import numpy as np

import keras
from keras import layers

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

# -- the guide's paragraphs: one layer, three consecutive calls, then a reset -----------------
paragraph1 = rng.random((4, 5, 6)).astype(np.float32)
paragraph2 = rng.random((4, 5, 6)).astype(np.float32)
paragraph3 = rng.random((4, 5, 6)).astype(np.float32)

lstm_layer = layers.LSTM(8, stateful=True)
output = lstm_layer(paragraph1)
output = lstm_layer(paragraph2)
existing_state = lstm_layer.states
new_lstm_layer = layers.LSTM(8)
new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
lstm_layer.reset_states()
print("output after reuse of states:", tuple(new_output.shape))

# -- a stateful model trained on long waves, chunk by chunk -----------------------------------
batch_size, chunk, n_chunks = 4, 10, 12
t = np.arange(chunk * n_chunks + 1)
phases = rng.uniform(0, 2 * np.pi, size=batch_size)
waves = np.sin(t[None, :] / 4.0 + phases[:, None]).astype("float32")  # (B, T_total + 1)
# Sample i of batch k is wave i's k-th chunk; the target is the wave's next value.
x = np.stack([waves[:, k * chunk:(k + 1) * chunk] for k in range(n_chunks)])  # (K, B, chunk)
y = np.stack([waves[:, (k + 1) * chunk] for k in range(n_chunks)])  # (K, B)
x = x.reshape(n_chunks * batch_size, chunk, 1)
y = y.reshape(n_chunks * batch_size, 1)

model = keras.Sequential([
    keras.Input(batch_shape=(batch_size, chunk, 1)),
    layers.LSTM(16, stateful=True),
    layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse")
for epoch in range(2):
    history = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    print(f"epoch {epoch}: loss {history.history['loss'][-1]:.4f}")
    model.layers[0].reset_states()

predictions = [model.predict(x[k * batch_size:(k + 1) * batch_size], batch_size=batch_size,
                             verbose=0) for k in range(n_chunks)]
model.layers[0].reset_states()
mse = float(np.mean((np.concatenate(predictions) - y) ** 2))
print("RESULT stateful_lstm", mse)
