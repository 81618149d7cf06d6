"""Input schemas of the auth, user, key and space routes."""

from __future__ import annotations

from ..validation import Field, Schema

__all__ = ["AUDIT", "BOOTSTRAP", "CREATE_KEY", "CREATE_SPACE", "CREATE_USER", "ROLES", "ROTATE_KEY"]

BOOTSTRAP = Schema(
    Field("secret", "str", required=True, max_len=1000), Field("name", "text", default="admin", max_len=100)
)

# Published: one to three of the known scopes, as a list or as a comma-separated string ("read,write", as
# reference clients send it); the parse check refuses an empty or unknown list.
SCOPES_SCHEMA = {
    "oneOf": [
        {"type": "array", "items": {"type": "string", "enum": ["read", "write", "admin"]}, "minItems": 1,
         "maxItems": 3},
        {"type": "string", "pattern": "^ *(read|write|admin) *(, *(read|write|admin) *){0,2}$"},
    ],
    "default": ["read", "write"],
}  # fmt: skip

# A reference client's role: the scopes of the user's first key (admin also makes the user an admin).
ROLES = {"admin": ("read", "write", "admin"), "writer": ("read", "write"), "reader": ("read",)}

CREATE_USER = Schema(
    Field("name", "text", required=True, max_len=100, aliases=("username",)),
    Field("email", "str", max_len=320),
    Field("is_admin", "bool", default=False),
    Field(
        "role",
        "str",
        choices=tuple(ROLES),
        help="admin, writer or reader: sets is_admin and the first key's scopes (explicit scopes win).",
    ),
    Field("scopes", "str_list", default=["read", "write"], max_items=3, schema=SCOPES_SCHEMA, comma_separated=True),
    description="Create a user (admin); the response carries the user's first key, shown once.",
)

CREATE_KEY = Schema(
    Field("name", "str", default="", max_len=100),
    Field("scopes", "str_list", default=["read", "write"], max_items=3, schema=SCOPES_SCHEMA, comma_separated=True),
    Field("user_id", "int", min=1, help="Admins may create keys for other users."),
    Field("expires_at", "timestamp"),
    Field("rate_limit", "int", min=1, max=1_000_000, help="Weighted requests per minute for this key."),
    description="Create an API key; the clear key is returned once.",
)

ROTATE_KEY = Schema(
    Field("key_id", "int", required=True, min=1),
    Field("grace_hours", "float", default=24.0, min=0, max=24 * 90),
    description="Issue a replacement key; the old one works for grace_hours more.",
)

CREATE_SPACE = Schema(
    Field("name", "text", required=True, max_len=100), Field("description", "str", default="", max_len=1000)
)

AUDIT = Schema(
    Field("limit", "int", default=100, min=1, max=1000),
    Field("before_id", "int", min=1),
    Field("action", "str", max_len=100),
    Field("user_id", "int", min=1, help="Admins only: another user's audit."),
)
