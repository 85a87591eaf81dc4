"""Plain data shared by every stage: frozen dataclasses and the few error classes."""
