"""Encryption of secrets kept in the database (1C passwords).

Fernet (AES-128-CBC + HMAC) with a key derived from ``settings.ENCRYPTION_KEY`` — a value
from the environment, never stored in the database — so a database dump alone does not
reveal the secrets.

Rotating the key (docs/operations.md, «Rotating secrets»): the new key goes in
``ENCRYPTION_KEY`` and the previous ones in ``ENCRYPTION_KEY_OLD``; values are then read
with any of them and written with the new one only, and ``manage.py rotate_encryption_key``
re-encrypts what is stored, after which the old keys can go.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(("arenda-secret-fields:" + key_material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _readers() -> MultiFernet:
    """The current key first, then the old ones still accepted for reading."""
    keys = [settings.ENCRYPTION_KEY, *getattr(settings, "ENCRYPTION_KEY_OLD", ())]
    return MultiFernet([_fernet(key) for key in keys])


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    return PREFIX + _fernet(settings.ENCRYPTION_KEY).encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise ValueError("the stored secret is not encrypted")
    try:
        return _readers().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValueError(
            "the stored secret cannot be decrypted with this ENCRYPTION_KEY (nor ENCRYPTION_KEY_OLD)"
        )


def needs_rotation(stored: str) -> bool:
    """Whether a stored value was encrypted with another key than ``ENCRYPTION_KEY``."""
    if not stored:
        return False
    if not stored.startswith(PREFIX):
        raise ValueError("the stored secret is not encrypted")
    try:
        _fernet(settings.ENCRYPTION_KEY).decrypt(stored[len(PREFIX) :].encode())
    except InvalidToken:
        return True
    return False


def reencrypt(stored: str) -> str:
    """The stored value encrypted with ``ENCRYPTION_KEY`` (read with any accepted key)."""
    return encrypt(decrypt(stored))


class EncryptedTextField(models.TextField):
    """Holds ciphertext in the database and plaintext on the instance."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
