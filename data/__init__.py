"""The default document shipped with docqa (a package only so that it installs with the code)."""
