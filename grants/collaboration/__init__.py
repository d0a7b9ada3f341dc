"""Working together on one application: every version kept and compared, what changed since a
person last saw it, and who is editing a section now (docs/collaboration.md)."""
