"""Figures for the course; each topic has its own module.

``l2l_helpers.plotting.images`` holds the generic image grids; the topic
modules (``contrast``, ``drift``, ``training``, ...) hold the figures of
one lesson each. Every function returns the matplotlib Figure.
"""
