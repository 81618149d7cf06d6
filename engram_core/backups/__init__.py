"""Online backups of the live database for the server (download, keep, verify) over ``crypto.dbops``."""
