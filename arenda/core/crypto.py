"""Encryption of secrets kept in the database (1C passwords).

Fernet (AES-128-CBC + HMAC) with a key derived from ``settings.ENCRYPTION_KEY`` — a value
from the environment, never stored in the database — so a database dump alone does not
reveal the secrets.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(("arenda-secret-fields:" + key_material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


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
        return _fernet(settings.ENCRYPTION_KEY).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValueError("the stored secret cannot be decrypted with this ENCRYPTION_KEY")


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
