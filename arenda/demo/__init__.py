"""The demo company: believable Russian reference data for trying Arenda out and for
benchmarks (``manage.py seed_demo``)."""
