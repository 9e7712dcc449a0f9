"""``python -m gbench`` runs the CLI."""

from gbench.cli.main import main

main()
