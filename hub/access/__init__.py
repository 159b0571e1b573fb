"""Who may do what, and who did what: roles and permissions, API tokens, the audit log."""
