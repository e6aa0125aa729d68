"""The fake 1C behaves as the client and the sync rely on."""

import httpx
import pytest

from arenda.integrations.onec.client import Client, Guid, NotFound, Refused, Unauthorized, where
from tests.onec.conftest import PASSWORD, USER


@pytest.fixture
def client(fake):
    with Client(fake.base_url("x"), USER, PASSWORD) as client:
        yield client


def test_filters_quote_strings_guids_and_booleans(client):
    odd = client.create(
        "Catalog_Контрагенты", {"Description": "ООО «Д'Артаньян and Co»", "ИНН": "7701234567"}
    )
    client.create("Catalog_Контрагенты", {"Description": "Другой", "ИНН": "7701234567"})
    assert where({"Description": "Д'А", "Owner_Key": Guid("ab"), "Услуга": True}) == (
        "Description eq 'Д''А' and Owner_Key eq guid'ab' and Услуга eq true"
    )
    [found] = client.list("Catalog_Контрагенты", {"Description": odd["Description"], "ИНН": "7701234567"})
    assert found["Ref_Key"] == odd["Ref_Key"] and found["Code"] == "00-000001"
    assert client.list(
        "Catalog_Контрагенты", {"Ref_Key": Guid(odd["Ref_Key"].upper()), "DeletionMark": False}
    )


def test_objects_keys_patch_and_post(client):
    organization = client.create("Catalog_Организации", {"Description": "Мы", "ИНН": "7707083893"})
    counterparty = client.create("Catalog_Контрагенты", {"Description": "Они"})
    document = client.create(
        "Document_СчетНаОплатуПокупателю",
        {"Организация_Key": organization["Ref_Key"], "Контрагент_Key": counterparty["Ref_Key"], "Товары": []},
    )
    assert (document["Number"], document["Posted"], document["DeletionMark"]) == ("0000-000001", False, False)
    assert document["odata.metadata"].endswith("$metadata#Document_СчетНаОплатуПокупателю/@Element")
    changed = client.patch("Document_СчетНаОплатуПокупателю", document["Ref_Key"], {"DeletionMark": True})
    assert changed["DeletionMark"] is True and changed["DataVersion"] != document["DataVersion"]
    with pytest.raises(Refused, match="Помеченный на удаление"):
        client.post_document("Document_СчетНаОплатуПокупателю", document["Ref_Key"])
    with pytest.raises(NotFound):
        client.get("Document_СчетНаОплатуПокупателю", "0b2d6a1e-0000-0000-0000-000000000000")


@pytest.mark.parametrize(
    "body",
    [
        {"Descr": "typo"},
        {"Description": "x", "ЮридическоеФизическоеЛицо": "ИП"},
        {"Description": "x", "Parent_Key": "0b2d6a1e-0000-0000-0000-000000000000"},
    ],
)
def test_mistakes_a_real_1c_would_refuse_are_refused(client, body):
    with pytest.raises(Refused):
        client.create("Catalog_Контрагенты", body)


def test_rows_of_a_tabular_part_are_read_alone_but_not_created_alone(client):
    document = client.create("Document_ПоступлениеНаРасчетныйСчет", {"РасшифровкаПлатежа": []})
    with pytest.raises(Refused, match="табличной части"):
        client.create(
            "Document_ПоступлениеНаРасчетныйСчет_РасшифровкаПлатежа", {"Ref_Key": document["Ref_Key"]}
        )
    with pytest.raises(Refused, match="LineNumber"):
        client.create("Document_ПоступлениеНаРасчетныйСчет", {"РасшифровкаПлатежа": [{"СуммаПлатежа": 1}]})


def test_auth_and_unknown_sets(fake, client):
    with pytest.raises(Unauthorized), Client(fake.base_url("x"), USER, "nope") as wrong:
        wrong.list("Catalog_Организации")
    with pytest.raises(NotFound, match="Catalog_Нет"):
        client.list("Catalog_Нет")
    assert httpx.get(f"{fake.url}/no-odata-here").status_code == 404
