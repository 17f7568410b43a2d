"""What reads or writes files: workbooks, CSV, PDF, HTML, GeoJSON."""
