"""The default document shipped with docqa (a package so that it installs with the code), and
the example questions about it that the app offers."""

from pathlib import Path

DEFAULT_ARTICLE = Path(__file__).resolve().with_name("india-japan-strategic-partnership.txt")
# Starter questions and an example claim for the app, beside the article they are about.
ARTICLE_EXAMPLES = DEFAULT_ARTICLE.with_suffix(".questions.json")
