"""The Feedback context in the API: reviews."""
