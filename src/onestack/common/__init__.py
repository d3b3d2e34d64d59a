"""Code every service shares: the project's own "oslo"."""
