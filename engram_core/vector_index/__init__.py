"""The per-user vector index of memory embeddings: an in-memory float32 matrix per user, a LanceDB ANN
table for large users (``ann``). Search's vector channel, auto-linking and extraction rank against it."""
