"""SQLite storage: the connection factory, the Database (read pool + one write thread), migrations."""
