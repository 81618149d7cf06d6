-- The personality channel reads a user's newest matching signals first (ORDER BY id DESC LIMIT n):
-- with this index SQLite walks them newest first and stops at n, instead of collecting every signal of
-- the user through (user_id, type) and sorting them (80 ms at 100k memories).
CREATE INDEX idx_personality_user_id ON personality_signals(user_id, id);
