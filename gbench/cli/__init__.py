"""The ``gbench`` command line."""
