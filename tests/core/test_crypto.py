import pytest
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
