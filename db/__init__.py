"""CareMap's data layer: models, engine and sessions, migrations."""
