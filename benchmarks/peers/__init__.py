"""Handlers that the Lambda benchmark compares bookapi with.

Each file is copied alone into a task folder of its own and run there as
``MODULE.handler``; they import nothing from bookapi.
"""
