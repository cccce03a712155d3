"""The Campaign context in the API: campaigns and their outcomes."""
