"""Read models: one module per model, each with its tables, its projection and its queries."""
