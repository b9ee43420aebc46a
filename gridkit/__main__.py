"""``python -m gridkit``: the same command line as the ``gridkit`` script."""

from gridkit.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
