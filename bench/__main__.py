"""``make bench``: build (once) the large dataset in its own database and print the
figures of each capability against a raw-SQL floor from the same run."""

import argparse

from bench.common import BENCH_DATABASE_URL, report, setup_django, stopwatch

PARTS = ("bookings", "reports", "imports")
REPORTS = ("payroll", "plates", "receivables", "fleet")


def main():
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part (repeatable)")
    parser.add_argument(
        "--report", choices=REPORTS, action="append", help="reports: only this report (repeatable)"
    )
    parser.add_argument("--no-export", action="store_true", help="reports: skip the year's XLSX exports")
    parser.add_argument("--import-rows", type=int, default=5000, help="imports: counterparties in the file")
    parser.add_argument("--profile", action="store_true", help="imports: print cProfile's top functions")
    args = parser.parse_args()
    parts = args.only or PARTS

    setup_django()
    from bench import bookings, dataset, imports, reports

    if "bookings" in parts or "reports" in parts:  # the import needs no large dataset
        with stopwatch() as sw:
            facts = dataset.ensure(bookings=args.bookings, units=args.units)
        report(
            "dataset",
            [*facts.items(), ("database url", BENCH_DATABASE_URL), ("ready in s", round(sw["seconds"], 1))],
        )
    if "bookings" in parts:
        bookings.run()
    if "reports" in parts:
        reports.run(names=args.report or REPORTS, export=not args.no_export)
    if "imports" in parts:
        imports.run(count=args.import_rows, profile=args.profile)


if __name__ == "__main__":
    main()
