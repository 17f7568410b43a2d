"""Pure rules and value types: no database session, no Streamlit, no files."""
