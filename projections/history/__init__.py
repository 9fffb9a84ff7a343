"""The history read model: every chat, searchable by filters and full text."""
