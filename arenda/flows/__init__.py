"""What crosses apps: one function per thing that happens, above the domain apps.

A domain app's services change that app's records and keep to it (``bookings`` never
calls ``billing``); when one event must change several apps — a waybill recorded → the
overtime invoice → the booking closes when paid → the deal follows — a function here
does it, in one transaction, queueing side effects ``on_commit``. Entry points (views,
the API, tasks, the Telegram webhook, the demo) call these; nothing below calls them
back. See ``docs/architecture.md``.
"""
