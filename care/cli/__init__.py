"""The command lines (``python -m care.admin`` and the rest): parse, call services or queries, print."""
