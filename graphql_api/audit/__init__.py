"""For auditors: the event log, an aggregate's history, and its state at any past point."""
