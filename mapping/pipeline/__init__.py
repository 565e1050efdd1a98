"""The pipeline: from the data package to a published build and its releases."""
