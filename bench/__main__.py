"""``make bench``: build (once) the large dataset in its own database and print the
figures of each capability against a raw-SQL floor from the same run."""

import argparse

from bench.common import BENCH_DATABASE_URL, report, setup_django, stopwatch


def main():
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=1000)
    args = parser.parse_args()

    setup_django()
    from bench import bookings, dataset

    with stopwatch() as sw:
        facts = dataset.ensure(bookings=args.bookings, units=args.units)
    report(
        "dataset",
        [*facts.items(), ("database url", BENCH_DATABASE_URL), ("ready in s", round(sw["seconds"], 1))],
    )
    bookings.run()


if __name__ == "__main__":
    main()
