"""Search channels: each returns a ranked candidate list for one user."""
