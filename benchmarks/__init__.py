"""Reliability and load runs against local servers on 127.0.0.1."""
