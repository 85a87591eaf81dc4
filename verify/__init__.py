"""Claim analysis and citation verification: the checker shared by answers, `docqa check` and
eval. Nothing here imports answer/ or app/; word lists are data files under `verify/words/`."""
