"""Helpers for testing code that uses Headwater: a throw-away store per test or per session."""
