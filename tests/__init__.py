"""gbench test suite."""
