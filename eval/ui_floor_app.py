"""The least a Streamlit chat page can do: a chat box, and the question echoed in an assistant
message. `python -m app.bench llm-ui` times Enter to that echo in the same browser as docqa's
instant answer, so the target (100 ms) is read against what Streamlit itself costs here."""

import streamlit as st

question = st.chat_input("Ask")
if question:
    with st.chat_message("assistant"):
        st.text(f"echo: {question}")  # text, not Markdown: the page renders no input as HTML
