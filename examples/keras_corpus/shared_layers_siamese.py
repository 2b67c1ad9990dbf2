"""Are two questions the same question? One Embedding and one LSTM shared by both inputs (keras-io
guide "The Functional API": "Shared layers", grown into the usual siamese duplicate-question
model).

The same layer instances called on two Inputs, so their weights get the gradients of both
branches; layers.subtract, layers.multiply, layers.Dot(axes=1, normalize=True) and
layers.concatenate merge the two encodings; a sigmoid says "duplicate". A duplicate is the
question with two of its words replaced; a non-duplicate is another question.
"""
import numpy as np

import keras
from keras import layers

vocab_size = 100
maxlen = 12
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

questions = rng.integers(1, vocab_size, size=(200, maxlen))
first = questions
second = questions.copy()
labels = rng.integers(0, 2, size=200)
for i, duplicate in enumerate(labels):
    if duplicate:
        second[i, rng.integers(0, maxlen, size=2)] = rng.integers(1, vocab_size, size=2)
    else:
        second[i] = questions[(i + 1 + rng.integers(0, 198)) % 200]

shared_embedding = layers.Embedding(vocab_size, 16)
shared_lstm = layers.LSTM(16)

text_input_a = keras.Input(shape=(None,), dtype="int32")
text_input_b = keras.Input(shape=(None,), dtype="int32")
encoded_a = shared_lstm(shared_embedding(text_input_a))
encoded_b = shared_lstm(shared_embedding(text_input_b))

difference = layers.subtract([encoded_a, encoded_b])
product = layers.multiply([encoded_a, encoded_b])
cosine = layers.Dot(axes=1, normalize=True)([encoded_a, encoded_b])
merged = layers.concatenate([difference, product, cosine])
predictions = layers.Dense(1, activation="sigmoid")(merged)

model = keras.Model(inputs=[text_input_a, text_input_b], outputs=predictions)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
print("weights (the shared layers appear once):", len(model.weights))
history = model.fit([first, second], labels, epochs=2, batch_size=32, validation_split=0.2)
print("RESULT shared_layers_siamese", history.history["loss"][-1])
