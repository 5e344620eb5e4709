"""The dashboard stylesheet (package data)."""
