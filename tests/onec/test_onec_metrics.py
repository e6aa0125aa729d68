"""1C push and pull outcomes per base on /metrics (arenda/billing/onec.py counts them into
arenda/core/metrics.py), against the fake 1C."""

from prometheus_client import REGISTRY

from arenda.billing import onec
from arenda.billing.models import Invoice
from arenda.flows import payments
from tests.onec.conftest import control, issue


def value(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_push_outcomes_are_counted_per_base(fake, org, customer, base_a):
    base = str(base_a.pk)
    synced, retry = (
        value("arenda_onec_push_total", base=base, outcome="synced"),
        value("arenda_onec_push_total", base=base, outcome="retry"),
    )
    assert onec.push_attempt(issue(customer, org).pk) == Invoice.SyncStatus.SYNCED
    control(fake, "a", fail="500", times=5)
    assert onec.push_attempt(issue(customer, org).pk) == Invoice.SyncStatus.PENDING
    assert value("arenda_onec_push_total", base=base, outcome="synced") == synced + 1
    assert value("arenda_onec_push_total", base=base, outcome="retry") == retry + 1


def test_a_refused_login_counts_as_failed(fake, org, customer, base_a):
    base = str(base_a.pk)
    failed = value("arenda_onec_push_total", base=base, outcome="failed")
    control(fake, "a", fail="401", times=5)
    assert onec.push_attempt(issue(customer, org).pk) == Invoice.SyncStatus.FAILED
    assert value("arenda_onec_push_total", base=base, outcome="failed") == failed + 1


def test_pull_outcomes_are_counted_per_base(fake, org, customer, base_a):
    assert onec.push_attempt(issue(customer, org).pk) == Invoice.SyncStatus.SYNCED
    base = str(base_a.pk)
    ok, error = (
        value("arenda_onec_pull_total", base=base, outcome="ok"),
        value("arenda_onec_pull_total", base=base, outcome="error"),
    )
    payments.pull_payments(base_a.pk)
    control(fake, "a", fail="500", times=1)
    payments.pull_payments(base_a.pk)
    assert value("arenda_onec_pull_total", base=base, outcome="ok") == ok + 1
    assert value("arenda_onec_pull_total", base=base, outcome="error") == error + 1
