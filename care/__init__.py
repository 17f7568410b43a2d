"""CareMap: registers, visits and maps for a county's special-care groups."""
