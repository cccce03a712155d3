"""Review intelligence with spaCy: sentiment, aspects, keywords, topics."""
