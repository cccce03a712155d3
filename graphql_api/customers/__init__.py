"""The Customer context in the API: customers (masked), their activity, their orders."""
