"""Reading and writing gridkit's inputs and outputs."""

from gridkit.io.write import atomic_output, check_writable

__all__ = ["atomic_output", "check_writable"]
