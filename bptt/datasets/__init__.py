"""Real data, read from packages that are already installed; nothing is downloaded.

`imdb`: the IMDB movie reviews (`load_data`, `get_word_index`, `encode`, `decode`), as
`keras.datasets.imdb`. `text`: the tokenizer that turns new text into the same ids.
"""
from bptt.datasets import imdb, text
from bptt.datasets.text import Tokenizer

__all__ = ["imdb", "text", "Tokenizer"]


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "datasets", name)
