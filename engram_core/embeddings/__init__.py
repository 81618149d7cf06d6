"""Embeddings: named models, an ONNX converter for BERT-family encoders, the runtime and a reranker.

Modules (imported directly; this package imports nothing heavy on its own):

* ``base``: ``Embedder`` protocol, ``Fingerprint``, ``ModelInfo``, text chunking.
* ``registry``: ``resolve`` / ``ensure`` / ``load_embedder`` (never raises); ``pull`` fetches from PyPI.
* ``onnx_model``: ``OnnxEmbedder``; ``rerank``: ``Reranker`` / ``load_reranker``.
* ``service``: ``EmbeddingService`` for ``/v1/embeddings``; ``cli``: ``engram models ...``.
* ``convert`` / ``reference`` / ``spec``: safetensors -> ONNX, and the numpy check of it.
* ``testing``: tiny random-weight models for tests.
"""
