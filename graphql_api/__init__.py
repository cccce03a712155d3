"""The GraphQL API (Strawberry on Starlette)."""
