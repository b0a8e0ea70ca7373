"""Neutral messages (`Message`, sections, buttons) and the functions that compose them."""
