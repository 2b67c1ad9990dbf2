"""Frozen "pre-trained" word vectors under a conv + LSTM classifier (keras-io: "Using
pre-trained word embeddings", which loads GloVe into an Embedding layer).

Embedding(embeddings_initializer=keras.initializers.Constant(matrix), trainable=False); Conv1D
-> MaxPooling1D -> LSTM -> Dense(softmax); sparse_categorical_crossentropy with metrics
["acc"]; the frozen matrix is read back with get_weights() after training. The "pre-trained"
vectors are made here: each of 4 topics has a direction, and its words lie near it.
"""
import numpy as np

import keras
from keras import layers

num_topics = 4
words_per_topic = 25
num_tokens = 2 + num_topics * words_per_topic  # 0: padding, 1: out of vocabulary
embedding_dim = 12
maxlen = 24
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

directions = rng.normal(size=(num_topics, embedding_dim))
embedding_matrix = np.zeros((num_tokens, embedding_dim))
for topic in range(num_topics):
    for j in range(words_per_topic):
        embedding_matrix[2 + topic * words_per_topic + j] = (
            directions[topic] + 0.3 * rng.normal(size=embedding_dim))

labels = rng.integers(0, num_topics, size=200)
x_train = np.zeros((200, maxlen), dtype="int64")
for i, topic in enumerate(labels):
    length = rng.integers(10, maxlen + 1)
    on_topic = rng.random(length) < 0.6
    ids = np.where(on_topic,
                   2 + topic * words_per_topic + rng.integers(0, words_per_topic, size=length),
                   rng.integers(2, num_tokens, size=length))
    x_train[i, :length] = ids  # right-padded, as a TextVectorization output would be

embedding_layer = layers.Embedding(
    num_tokens, embedding_dim,
    embeddings_initializer=keras.initializers.Constant(embedding_matrix),
    trainable=False)

int_sequences_input = keras.Input(shape=(None,), dtype="int64")
embedded_sequences = embedding_layer(int_sequences_input)
x = layers.Conv1D(16, 3, activation="relu")(embedded_sequences)
x = layers.MaxPooling1D(2)(x)
x = layers.LSTM(16)(x)
x = layers.Dense(16, activation="relu")(x)
x = layers.Dropout(0.5)(x)
preds = layers.Dense(num_topics, activation="softmax")(x)
model = keras.Model(int_sequences_input, preds)
model.summary()

model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["acc"])
history = model.fit(x_train, labels, batch_size=32, epochs=2, validation_split=0.2)
frozen = np.allclose(embedding_layer.get_weights()[0], embedding_matrix, atol=1e-6)
print("embeddings unchanged by training:", frozen)
print("RESULT pretrained_embeddings", history.history["val_loss"][-1])
