import unittest

from textstats import average_word_length, word_count


class WordCountTest(unittest.TestCase):
    def test_single_spaces(self):
        self.assertEqual(word_count("one two three"), 3)

    def test_any_whitespace(self):
        self.assertEqual(word_count("one   two\tthree four\n"), 4)


class AverageTest(unittest.TestCase):
    def test_average(self):
        self.assertEqual(average_word_length("ab abcd"), 3.0)

    def test_empty_text(self):
        self.assertEqual(average_word_length(""), 0.0)


if __name__ == "__main__":
    unittest.main()
