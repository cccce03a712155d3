"""Application layer: one eventsourcing application per bounded context, the
process managers between them, and the context (actor, correlation) of commands."""
