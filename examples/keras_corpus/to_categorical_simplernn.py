"""Which wave is it? A SimpleRNN classifier with one-hot labels (the SimpleRNN sequence
classifier of the Keras RNN layer docs and guides, on shapes instead of digits).

keras.utils.to_categorical for the labels; SimpleRNN with its initializers named
(glorot_uniform kernel, orthogonal recurrent kernel) and return_sequences=True into a second
SimpleRNN; keras.optimizers.SGD(momentum, nesterov); categorical_crossentropy; evaluate on a
test set and argmax of predict.
"""
import numpy as np

import keras
from keras import layers

rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)
timesteps = 20
num_classes = 3


def make_waves(n):
    labels = rng.integers(0, num_classes, size=n)
    t = np.arange(timesteps)[None, :] / 3.0 + rng.uniform(0, 6, size=(n, 1))
    waves = np.stack([np.sin(t), np.sign(np.sin(t)), (t % (2 * np.pi)) / np.pi - 1.0], axis=1)
    x = waves[np.arange(n), labels] + 0.1 * rng.normal(size=(n, timesteps))
    return x[..., None].astype("float32"), labels


x_train, y_train = make_waves(192)
x_test, y_test = make_waves(48)
y_train_onehot = keras.utils.to_categorical(y_train, num_classes)
y_test_onehot = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential()
model.add(keras.Input(shape=(timesteps, 1)))
model.add(layers.SimpleRNN(16, return_sequences=True, kernel_initializer="glorot_uniform",
                           recurrent_initializer="orthogonal"))
model.add(layers.SimpleRNN(16))
model.add(layers.Dense(num_classes, activation="softmax"))
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
              loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train_onehot, batch_size=32, epochs=2)
test_loss, test_acc = model.evaluate(x_test, y_test_onehot, verbose=0)
predicted = np.argmax(model.predict(x_test[:6]), axis=1)
print("predicted:", predicted.tolist(), "true:", y_test[:6].tolist())
print("RESULT to_categorical_simplernn", test_loss)
