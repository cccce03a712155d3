"""Infrastructure: settings, persistence wiring, encryption of personal data,
the command-line interface, the HTTP server and the importers."""
