"""Comments per section: threads on a section, a partner's part or the budget (docs/comments.md)."""
