"""Loaded by pytest before Django starts (pyproject: `-p tests.testenv`).

The suite talks plain HTTP to the test client and to live servers, so the HTTPS-only defaults of
production (redirect to https, Secure cookies) are turned off here; everything else stays as in
production.
"""

import os

os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
