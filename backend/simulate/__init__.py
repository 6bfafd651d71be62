"""``ls-active simulate``: strategies compared offline on labeled data a user already has.

May import everything below the HTTP face (the base, task kinds, :mod:`strategies`).
"""
