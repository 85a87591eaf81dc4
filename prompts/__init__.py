"""Prompt templates as plain text files with named placeholders (loaded by answer/prompting.py).

A package only so that the templates are installed with the code.
"""
