"""todo: a to-do list for the terminal."""

__version__ = "1.2.0"
