"""``python -m gateway.cli``: the same as ``pjgw``."""

from gateway.cli.main import main

main()
