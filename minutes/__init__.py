"""minutes: questions, answers and agreed recommendations from council minutes."""
__version__ = "0.1.0"
