"""``make bench``: build (once) the large dataset in its own database and print the
figures of each capability against a raw-SQL floor from the same run, ending with one
table of every measure, its target, its floor, the ratio and whether it is met."""

import argparse
import os
import traceback

PARTS = ("bookings", "reports", "pages", "lists", "imports", "telematics")
REPORTS = ("payroll", "plates", "receivables", "fleet")
QUICK_BOOKINGS, QUICK_UNITS = 100_000, 300


def main():
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a {QUICK_BOOKINGS:,}-booking dataset in a database of its own (default arenda_bench_quick)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part (repeatable)")
    parser.add_argument(
        "--report", choices=REPORTS, action="append", help="reports: only this report (repeatable)"
    )
    parser.add_argument("--no-export", action="store_true", help="reports: skip the year's XLSX exports")
    parser.add_argument("--import-rows", type=int, default=5000, help="imports: counterparties in the file")
    parser.add_argument(
        "--profile", action="store_true", help="imports and exports: print cProfile's top functions"
    )
    args = parser.parse_args()
    parts = args.only or PARTS
    if args.profile:
        os.environ["BENCH_PROFILE"] = "1"  # the export's child process profiles itself
    if args.quick:
        args.bookings, args.units = QUICK_BOOKINGS, QUICK_UNITS
        os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arenda_bench_quick")

    from bench.common import BENCH_DATABASE_URL, print_table, report, setup_django, stopwatch, write_json

    setup_django()
    from bench import bookings, dataset, imports, lists, pages, reports, telematics

    measures = []
    if set(parts) - {"imports"}:  # the import needs no large dataset
        with stopwatch() as sw:
            facts = dataset.ensure(bookings=args.bookings, units=args.units)
        report(
            "dataset",
            [*facts.items(), ("database url", BENCH_DATABASE_URL), ("ready in s", round(sw["seconds"], 1))],
        )
    runs = {
        "bookings": bookings.run,
        "reports": lambda: reports.measures(
            reports.run(names=args.report or REPORTS, export=not args.no_export)
        ),
        "pages": pages.run,
        "lists": lists.run,
        "imports": lambda: imports.run(count=args.import_rows, profile=args.profile),
        "telematics": telematics.run,
    }
    failed = []
    for part in PARTS:
        if part in parts:
            try:
                measures += runs[part]()
            except Exception:  # the others' figures still make the table
                traceback.print_exc()
                failed.append(part)
    print_table(measures)
    if args.json:
        write_json(args.json, measures)
    if failed:
        raise SystemExit(f"parts that failed (traceback above): {', '.join(failed)}")


if __name__ == "__main__":
    main()
