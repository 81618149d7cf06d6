-- auth_generation: one counter that every change able to alter what an API key authenticates as moves
-- (a key's hash, scopes, rate limit, expiry or revocation; a key or user deleted; a user's admin flag),
-- whichever process or connection commits it. A server caches key lookups per process and checks this
-- counter on each request (engram_core/auth/keycache.py), so `engram keys revoke` in another process, or
-- a second server on the same file, takes effect on the very next request. New keys need no bump: only
-- keys that authenticated are cached. last_used_at is left out: it changes once a minute per busy key.
CREATE TABLE auth_generation (n INTEGER NOT NULL);
INSERT INTO auth_generation (n) VALUES (0);

CREATE TRIGGER auth_generation_key_update
AFTER UPDATE OF user_id, prefix, key_hash, scopes, rate_limit, expires_at, revoked_at ON api_keys
BEGIN UPDATE auth_generation SET n = n + 1; END;

CREATE TRIGGER auth_generation_key_delete AFTER DELETE ON api_keys
BEGIN UPDATE auth_generation SET n = n + 1; END;

CREATE TRIGGER auth_generation_user_update AFTER UPDATE OF is_admin ON users
BEGIN UPDATE auth_generation SET n = n + 1; END;

CREATE TRIGGER auth_generation_user_delete AFTER DELETE ON users
BEGIN UPDATE auth_generation SET n = n + 1; END;
