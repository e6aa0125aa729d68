"""Touches to the generated OpenAPI schema (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""

# The router's id pattern (``arenda/api/urls.py``, ``Router.get_lookup_regex``): drf-spectacular
# renders such a regex route parameter as a string with this pattern.
INTEGER_ID = {"type": "string", "pattern": "^[0-9]+$"}


def integer_ids(result, generator, request, public):
    """Ids in paths are integers, as on the nested routes (``<int:unit_id>``), so that
    clients and fuzzers (``bin/api-fuzz``) send numbers; anything else answers 404."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                if parameter.get("in") == "path" and parameter.get("schema") == INTEGER_ID:
                    parameter["schema"] = {"type": "integer"}
    return result
