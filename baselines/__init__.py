"""The shipped baselines: each module is one plugin, registered through the same
``gbench.models`` entry-point group as any user's package (see pyproject.toml)."""
