"""London digital exclusion map."""
