"""Character-level encoder-decoder with teacher forcing (keras-io: "Character-level recurrent
sequence-to-sequence model").

The encoder LSTM's return_state=True states become the decoder LSTM's initial_state; the
training model has two inputs; model.save to a .keras file and keras.models.load_model; the
sampling models are rebuilt from the loaded model's layers (model.input, layer.output, a layer
called again on new Inputs) and decode greedily one character at a time. The task: write each
word backwards ("cab" -> "bac").
"""
import os
import tempfile

import numpy as np

import keras

latent_dim = 16
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)

input_texts = ["".join(rng.choice(list("abcdef"), size=rng.integers(2, 6))) for _ in range(120)]
# "\t" starts a target sequence and "\n" ends it.
target_texts = ["\t" + text[::-1] + "\n" for text in input_texts]
input_characters = sorted(set("".join(input_texts)) | {" "})
target_characters = sorted(set("".join(target_texts)) | {" "})
num_encoder_tokens = len(input_characters)
num_decoder_tokens = len(target_characters)
max_encoder_seq_length = max(len(t) for t in input_texts)
max_decoder_seq_length = max(len(t) for t in target_texts)
input_token_index = {c: i for i, c in enumerate(input_characters)}
target_token_index = {c: i for i, c in enumerate(target_characters)}

n = len(input_texts)
encoder_input_data = np.zeros((n, max_encoder_seq_length, num_encoder_tokens), dtype="float32")
decoder_input_data = np.zeros((n, max_decoder_seq_length, num_decoder_tokens), dtype="float32")
decoder_target_data = np.zeros((n, max_decoder_seq_length, num_decoder_tokens), dtype="float32")
for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
    for t, char in enumerate(input_text):
        encoder_input_data[i, t, input_token_index[char]] = 1.0
    encoder_input_data[i, t + 1:, input_token_index[" "]] = 1.0
    for t, char in enumerate(target_text):
        decoder_input_data[i, t, target_token_index[char]] = 1.0
        if t > 0:  # the target is the decoder's input one step ahead
            decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
    decoder_input_data[i, t + 1:, target_token_index[" "]] = 1.0
    decoder_target_data[i, t:, target_token_index[" "]] = 1.0

encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
encoder = keras.layers.LSTM(latent_dim, return_state=True)
encoder_outputs, state_h, state_c = encoder(encoder_inputs)
encoder_states = [state_h, state_c]

decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
decoder_outputs = decoder_dense(decoder_outputs)
model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
                    batch_size=32, epochs=2, validation_split=0.2)

tmp_dir = tempfile.mkdtemp()
model.save(os.path.join(tmp_dir, "s2s_model.keras"))
model = keras.models.load_model(os.path.join(tmp_dir, "s2s_model.keras"))

# Sampling models, built from the restored model's layers.
encoder_inputs = model.input[0]
encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output
encoder_model = keras.Model(encoder_inputs, [state_h_enc, state_c_enc])

decoder_inputs = model.input[1]
decoder_state_input_h = keras.Input(shape=(latent_dim,))
decoder_state_input_c = keras.Input(shape=(latent_dim,))
decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
decoder_lstm = model.layers[3]
decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
    decoder_inputs, initial_state=decoder_states_inputs)
decoder_outputs = model.layers[4](decoder_outputs)
decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs,
                            [decoder_outputs, state_h_dec, state_c_dec])

reverse_target_char_index = {i: c for c, i in target_token_index.items()}


def decode_sequence(input_seq):
    states_value = encoder_model.predict(input_seq, verbose=0)
    target_seq = np.zeros((1, 1, num_decoder_tokens))
    target_seq[0, 0, target_token_index["\t"]] = 1.0
    decoded = ""
    while True:
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
        sampled_token_index = int(np.argmax(output_tokens[0, -1, :]))
        sampled_char = reverse_target_char_index[sampled_token_index]
        decoded += sampled_char
        if sampled_char == "\n" or len(decoded) > max_decoder_seq_length:
            return decoded
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, sampled_token_index] = 1.0
        states_value = [h, c]


for seq_index in range(3):
    decoded = decode_sequence(encoder_input_data[seq_index:seq_index + 1])
    print("Input:", input_texts[seq_index], "Decoded:", repr(decoded))

print("RESULT lstm_seq2seq", history.history["val_loss"][-1])
