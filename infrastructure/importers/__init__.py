"""Importers of real data sets: they read a file, check each record, and replay
what it describes through the application layer's commands (never by writing
events directly), with idempotency keys so that running one twice adds nothing."""
