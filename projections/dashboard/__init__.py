"""The dashboard read model: a row per chat as the operators' tabs show it, and its queries."""
