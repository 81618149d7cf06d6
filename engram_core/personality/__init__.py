"""Personality: signals (preferences, values, decisions ...) read from memories as they are written, the
profile synthesised from them, the routes over both, and the ranking search's personality channel uses.

``signals`` is the text analysis (no I/O), ``store`` the rows (extracted inside each memory write
transaction), ``service`` the routes.
"""
