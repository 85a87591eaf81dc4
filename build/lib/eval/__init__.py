"""Batch evaluation of Q&A sets, metrics and reports; `eval/datasets/` holds our own sets."""
