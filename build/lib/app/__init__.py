"""The `docqa` command line and the Streamlit app: the only place that talks to a person."""
