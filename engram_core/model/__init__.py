"""The shared vocabulary of the domain packages: which memory rows are visible, one owned memory, the link
rows, the FTS5 match expression.

memories, graph, search, decay, organize, personality, intelligence and the services all speak it; it
imports nothing back from them (only ``storage``, ``errors`` and ``timeutil``), so none of them needs
another to say "a visible memory". tests/core/test_import_graph.py keeps the packages free of cycles.
"""
