"""Text: words, terms (stemmed, no stop words) and sentences; what every later stage splits text with."""
