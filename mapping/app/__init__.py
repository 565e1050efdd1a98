"""The Panel app: the only layer that imports Panel."""
