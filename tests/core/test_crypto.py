from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from arenda.core.crypto import decrypt, encrypt
from arenda.directory.models import AccountingBase
from tests.factories import AccountingBaseFactory

SECRET = "Пароль-1С-secret"


def stored_password(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM directory_accountingbase WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_round_trip():
    token = encrypt(SECRET)
    assert token != SECRET and SECRET not in token
    assert decrypt(token) == SECRET
    assert encrypt(SECRET) != token  # random IV: equal passwords do not look equal
    assert encrypt("") == "" and decrypt("") == ""


def test_database_holds_ciphertext_only(db):
    base = AccountingBaseFactory(password=SECRET)
    raw = stored_password(base.pk)
    assert raw.startswith("fernet:")
    assert SECRET not in raw
    assert AccountingBase.objects.get(pk=base.pk).password == SECRET
    # The change history keeps no copy of the password at all.
    assert "password" not in {f.name for f in AccountingBase.history.model._meta.fields}


def test_another_key_cannot_decrypt(db):
    base = AccountingBaseFactory(password=SECRET)
    with (
        override_settings(ENCRYPTION_KEY="a-different-key"),
        pytest.raises(ValueError, match="ENCRYPTION_KEY"),
    ):
        AccountingBase.objects.get(pk=base.pk)
    assert AccountingBase.objects.get(pk=base.pk).password == SECRET


def test_plaintext_in_the_column_is_refused(db):
    base = AccountingBaseFactory(password=SECRET)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE directory_accountingbase SET password = %s WHERE id = %s", [SECRET, base.pk])
    with pytest.raises(ValueError, match="not encrypted"):
        AccountingBase.objects.get(pk=base.pk)


def test_empty_password_stays_empty(db):
    base = AccountingBaseFactory(password="")
    assert stored_password(base.pk) == ""
    assert AccountingBase.objects.get(pk=base.pk).password == ""


def test_an_old_key_still_reads_until_the_secrets_are_rotated(db):
    """docs/operations.md, «Rotating secrets»: the new key in ENCRYPTION_KEY, the previous
    one in ENCRYPTION_KEY_OLD; ``rotate_encryption_key`` re-encrypts, then the old key can go."""
    with override_settings(ENCRYPTION_KEY="the-old-key", ENCRYPTION_KEY_OLD=[]):
        base = AccountingBaseFactory(password=SECRET)
        empty = AccountingBaseFactory(password="")
    old_ciphertext = stored_password(base.pk)
    with override_settings(ENCRYPTION_KEY="the-new-key", ENCRYPTION_KEY_OLD=["the-old-key"]):
        assert AccountingBase.objects.get(pk=base.pk).password == SECRET
        with pytest.raises(CommandError, match="old key"):
            call_command("rotate_encryption_key", "--check", stdout=StringIO())
        out = StringIO()
        call_command("rotate_encryption_key", stdout=out)
        assert "re-encrypted 1 value" in out.getvalue()
        call_command("rotate_encryption_key", "--check", stdout=StringIO())
    assert stored_password(base.pk) != old_ciphertext and stored_password(empty.pk) == ""
    with override_settings(ENCRYPTION_KEY="the-new-key", ENCRYPTION_KEY_OLD=[]):
        assert AccountingBase.objects.get(pk=base.pk).password == SECRET
    with override_settings(ENCRYPTION_KEY="the-old-key", ENCRYPTION_KEY_OLD=[]), pytest.raises(ValueError):
        AccountingBase.objects.get(pk=base.pk)


def test_rotation_writes_nothing_when_a_value_reads_with_no_key(db):
    with override_settings(ENCRYPTION_KEY="key-one"):
        first = AccountingBaseFactory(password=SECRET)
    with override_settings(ENCRYPTION_KEY="key-lost"):
        AccountingBaseFactory(password=SECRET)
    before = stored_password(first.pk)
    with (
        override_settings(ENCRYPTION_KEY="key-two", ENCRYPTION_KEY_OLD=["key-one"]),
        pytest.raises(CommandError, match="cannot be decrypted"),
    ):
        call_command("rotate_encryption_key", stdout=StringIO())
    assert stored_password(first.pk) == before
