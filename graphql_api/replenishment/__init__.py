"""GraphQL area of replenishment: demand forecasts, plans, KPIs, low-stock alerts (issue 7)."""
