"""The "Evaluate" tab (filled in below once the eval runner's API is settled)."""

from __future__ import annotations

import streamlit as st

from answer.pipeline import Pipeline


def render(pipe: Pipeline, backend: str, k: int) -> None:
    st.info("Batch evaluation comes with the eval runner.")
