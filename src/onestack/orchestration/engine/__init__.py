"""The engine: runs a stack's action (create, delete, rollback) over its dependency graph,
resources concurrently where the graph allows, every step recorded in the database so that a
restarted engine resumes or fails what a dead one left IN_PROGRESS."""
