"""The workflow engine: pure Python, no Flask, no SQLAlchemy.

`definition` holds the data types, `loader` reads and validates YAML files, `engine` answers
"what may these roles do now" and applies a transition to a plain state value."""
