"""What every area of the schema shares: scalars, money, global IDs, connections,
errors, DataLoader plumbing, the request context and the command runner."""
