"""Hybrid search: the pure pieces (query sanitising, strategy, fusion, boosts, temporal windows, context).

The channels and the pipeline that read the database live beside these modules and call into them.
"""
