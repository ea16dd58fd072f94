"""Identities and access: who is calling (``Principal``) and what they may do."""
