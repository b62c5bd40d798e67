"""Compiled execution: root fields over PostgreSQL answered by one JSON-building statement
each, inside the same request pipeline as the resolvers (see `schema.compiled.executor`)."""
