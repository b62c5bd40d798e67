"""The SQL side of compiled execution: statements that build a field's JSON in PostgreSQL
(`statements`, `sql`), the visibility rule they apply (`visibility`) and how they run (`run`)."""
