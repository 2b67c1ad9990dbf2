"""Route support tickets: three named inputs, two named outputs (keras-io guide "The Functional
API": "Models with multiple inputs and outputs").

Two Embedding + LSTM text branches and a binary tags vector, merged with layers.concatenate;
a priority logit and a department logit; compile with per-output losses by name
(from_logits=True) and loss_weights; fit and evaluate on dicts keyed by the inputs' and
outputs' names; predict returns one array per output.
"""
import numpy as np

import keras
from keras import layers

num_tags = 6
num_words = 200
num_departments = 4
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

title_input = keras.Input(shape=(None,), name="title")
body_input = keras.Input(shape=(None,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")

title_features = layers.Embedding(num_words, 16)(title_input)
body_features = layers.Embedding(num_words, 16)(body_input)
title_features = layers.LSTM(16)(title_features)
body_features = layers.LSTM(8)(body_features)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)

model = keras.Model(inputs=[title_input, body_input, tags_input],
                    outputs=[priority_pred, department_pred])
model.summary()
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)

n = 128
title_data = rng.integers(num_words, size=(n, 6))
body_data = rng.integers(num_words, size=(n, 20))
tags_data = rng.integers(2, size=(n, num_tags)).astype("float32")
priority_targets = rng.random(size=(n, 1))
dept_targets = keras.utils.to_categorical(rng.integers(num_departments, size=n),
                                          num_departments)

model.fit({"title": title_data, "body": body_data, "tags": tags_data},
          {"priority": priority_targets, "department": dept_targets},
          epochs=2, batch_size=32)
results = model.evaluate({"title": title_data, "body": body_data, "tags": tags_data},
                         {"priority": priority_targets, "department": dept_targets},
                         return_dict=True)
print("evaluate:", results)
priority, department = model.predict([title_data[:3], body_data[:3], tags_data[:3]])
print("prediction shapes:", priority.shape, department.shape)
print("RESULT multi_input_multi_output", results["loss"])
