-- Session context in search: the turns before and after a hit in the same session, in order.
CREATE INDEX idx_memories_user_session ON memories(user_id, session_id, created_at, id);
