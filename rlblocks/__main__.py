"""``python -m rlblocks ...``: the same command line as the ``rlblocks`` script."""

from rlblocks.cli import main

if __name__ == "__main__":
    main()
