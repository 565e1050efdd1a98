"""Performance measurements that print figures (never timed assertions).

``python -m benchmarks`` runs the whole suite (index, data, app, exports) side by side with the
naive baseline and prints one table; see ``benchmarks/README.md``.
"""
