"""``{% act_customer_link act %}``: the customer's link of an issued closing document, as the
customer reaches it (``PUBLIC_URL``); ``{% act_send_key %}``: a fresh idempotency key for one
shown send form, so a double click sends once (``billing/act_mail.py``). Neither reads the
database."""

from django import template

from arenda.billing.act_mail import act_link, new_key

register = template.Library()


@register.simple_tag
def act_customer_link(act) -> str:
    return act_link(act)


@register.simple_tag
def act_send_key() -> str:
    return new_key()
