"""The admin's data operations over the live database: online backups (download, keep, verify over
``crypto.dbops``) and maintenance (FTS rebuild, compaction job, garbage collection, schema). They sit above
storage, auth, crypto, jobs and memories, which import nothing from here."""
