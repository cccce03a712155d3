"""The Catalog context in the API: products."""
