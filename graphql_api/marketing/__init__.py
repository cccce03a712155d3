"""The Marketing context in the API: segments, purchase probabilities, campaign performance, budget allocations."""
