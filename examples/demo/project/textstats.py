"""Small text statistics, used by the loopgate demo."""


def word_count(text):
    """Number of words in text, separated by any run of whitespace."""
    return len(text.split(" "))


def average_word_length(text):
    """Mean length of the words in text; 0.0 when there are none."""
    words = text.split()
    return sum(len(w) for w in words) / len(words)
