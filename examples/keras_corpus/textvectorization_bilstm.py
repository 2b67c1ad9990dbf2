"""Raw strings -> TextVectorization -> masked Embedding -> Bidirectional LSTM (Deep Learning
with Python, second edition, text chapter: "a bidirectional LSTM on integer sequences").

TextVectorization(output_mode="int", output_sequence_length=...) adapted on the training
strings; Embedding(mask_zero=True) so the padding is skipped; Bidirectional(LSTM) -> Dropout
-> Dense(sigmoid); functional model with an int64 Input; evaluate on held-out strings.
"""
import numpy as np

import keras
from keras import layers

positive = ["a wonderful film", "brilliant acting and a great story", "i loved every minute",
            "great cast and a moving ending", "a delight from start to finish",
            "funny warm and wonderful", "the best film this year", "great fun loved it"]
negative = ["a dull and boring film", "terrible acting and an awful plot",
            "i wanted my money back", "the worst film this year", "boring from start to finish",
            "awful dialogue and a dull story", "i hated every minute", "a terrible waste"]
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)


def make_texts(n):
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        pool = positive if label else negative
        parts = rng.choice(len(pool), size=rng.integers(1, 3), replace=False)
        texts.append(" ".join(pool[i] for i in parts))
        labels.append(label)
    return np.array(texts), np.array(labels)


train_texts, train_labels = make_texts(96)
test_texts, test_labels = make_texts(32)

max_length = 16
max_tokens = 60
text_vectorization = layers.TextVectorization(
    max_tokens=max_tokens, output_mode="int", output_sequence_length=max_length)
text_vectorization.adapt(train_texts)
print("vocabulary:", text_vectorization.get_vocabulary()[:8])
int_train = np.asarray(text_vectorization(train_texts))
int_test = np.asarray(text_vectorization(test_texts))

inputs = keras.Input(shape=(None,), dtype="int64")
embedded = layers.Embedding(input_dim=max_tokens, output_dim=16, mask_zero=True)(inputs)
x = layers.Bidirectional(layers.LSTM(8))(embedded)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()

model.fit(int_train, train_labels, epochs=2, batch_size=16)
test_loss, test_acc = model.evaluate(int_test, test_labels)
print(f"Test acc: {test_acc:.3f}")
print("RESULT textvectorization_bilstm", test_loss)
