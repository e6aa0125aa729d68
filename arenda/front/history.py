"""A record's change history (django-simple-history) as the pages show it:
``front/ui/_history.html`` renders the entries."""

from arenda.core.formats import format_value

HISTORY_LIMIT = 50


def history_entries(obj, hidden: frozenset[str] = frozenset()) -> list[dict]:
    """Newest first: who, when, and each changed field as label: old → new — but the
    ``hidden`` fields (a change of only those is left out)."""
    records = list(obj.history.select_related("history_user")[: HISTORY_LIMIT + 1])
    pairs = []
    related_ids: dict = {}
    # a record with no history (rows written before the history was kept, or in bulk
    # without it) has no entries
    for newer, older in zip(records, [*records[1:], None][: len(records)], strict=True):
        delta = (
            newer.diff_against(older, excluded_fields=hidden)
            if older is not None and newer.history_type == "~"
            else None
        )
        if hidden and delta is not None and not delta.changes:
            continue  # a change of hidden fields only: not shown at all
        pairs.append((newer, delta))
        for change in delta.changes if delta else ():
            model_field = obj._meta.get_field(change.field)
            if model_field.is_relation:
                related_ids.setdefault(model_field.related_model, set()).update(
                    v for v in (change.old, change.new) if v is not None
                )
    names = {
        model: {pk: str(o) for pk, o in model._default_manager.in_bulk(ids).items()}
        for model, ids in related_ids.items()
    }
    entries = []
    for newer, delta in pairs[:HISTORY_LIMIT]:
        changes = []
        for change in delta.changes if delta else ():
            model_field = obj._meta.get_field(change.field)
            lookup = names.get(model_field.related_model) if model_field.is_relation else None
            changes.append(
                {
                    "field": change.field,
                    "label": model_field.verbose_name,
                    "old": format_value(model_field, change.old, lookup),
                    "new": format_value(model_field, change.new, lookup),
                }
            )
        entries.append(
            {
                "when": newer.history_date,
                "who": newer.history_user,
                "kind": newer.history_type,
                "kind_label": newer.get_history_type_display(),
                "changes": changes,
            }
        )
    return entries
