"""Persistence: SQLAlchemy models for PostgreSQL (`models.sql`) and Beanie documents for
MongoDB (`models.documents`). Nothing here knows GraphQL."""
