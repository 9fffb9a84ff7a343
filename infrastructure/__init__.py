"""Settings, the database (embedded or given), the composition root and the CLI."""
