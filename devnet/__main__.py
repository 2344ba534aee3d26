"""``python -m devnet run --data DIR …``: the same command line as ``pjgw devnet``."""

from devnet.cli import main

if __name__ == "__main__":
    main()
