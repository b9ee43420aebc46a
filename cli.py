"""Thin launcher: ``python cli.py ARGS`` behaves exactly like ``gridkit ARGS``."""

from gridkit.cli import main

if __name__ == "__main__":
    main()
