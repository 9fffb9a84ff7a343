"""The HTTP API: thin routers over the application and the read models."""
