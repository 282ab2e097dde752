"""Command line of the course tooling: `python -m utils.tooling {lint,fmt,export,labs,solutions,grade,release,bench}`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import utils
from utils.tooling import grade, labs, nbfiles, rules, runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m utils.tooling",
        description=__doc__,
        epilog=utils.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("lint", help="check every notebook against the course's rules")
    sub.add_parser("fmt", help="fix badges and setup cells, normalise notebooks")
    sub.add_parser(
        "export", help="regenerate the package's sections saved from lectures (`# @save:` cells)"
    )
    p_labs = sub.add_parser("labs", help="regenerate labs/ from solutions/")
    p_labs.add_argument("--force", action="store_true", help="overwrite labs holding outputs")
    p_sol = sub.add_parser("solutions", help="execute solutions in smoke and store outputs")
    p_sol.add_argument("names", nargs="*", help="e.g. 05_lenet (default: all)")
    p_grade = sub.add_parser("grade", help="grade a folder of learners' labs")
    p_grade.add_argument(
        "submissions", nargs="?", help="folder with one sub-folder per learner (not with --merge)"
    )
    p_grade.add_argument("--out", default="grading/out", help="where grades.csv goes")
    p_grade.add_argument("--jobs", type=int, default=None, help="labs graded at once")
    p_grade.add_argument("--cell-seconds", type=int, default=120)
    p_grade.add_argument("--notebook-seconds", type=int, default=600)
    p_grade.add_argument("--memory-mb", type=int, default=6000)
    p_grade.add_argument(
        "--seed", type=int, default=None, help="the grading seed to reproduce (default: fresh)"
    )
    p_grade.add_argument(
        "--shard", default="", help="i/n: grade only shard i of n of the learners (a batch job)"
    )
    p_grade.add_argument(
        "--merge", action="store_true", help="merge OUT/grades-shard-*.csv into OUT/grades.csv"
    )
    p_grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels without bubblewrap even where it works (not for grading for credit)",
    )
    p_rel = sub.add_parser("release", help="write the learner-facing course into a folder")
    p_rel.add_argument("out", help="the folder to write (must not exist, or be empty)")
    p_rel.add_argument(
        "--repo", default="", help="owner/name of the public release repository (Colab badges)"
    )
    p_bench = sub.add_parser(
        "bench", help="unit 03's convolution benchmark on a clone's notebooks", add_help=False
    )
    p_bench.add_argument("rest", nargs=argparse.REMAINDER, help="see `bench --help`")
    args = parser.parse_args(argv)

    if args.command == "bench":
        from utils.tooling import bench

        return bench.main(args.rest)

    if args.command == "lint":
        problems = rules.lint_all()
        for line in problems:
            print(line)
        n = sum(len(nbfiles.course_notebooks(f)) for f in nbfiles.FOLDERS)
        print(f"notebook lint: {n} notebooks, {len(problems)} problem(s)")
        return 1 if problems else 0
    if args.command == "fmt":
        for rel in rules.fix_all():
            print(f"formatted {rel}")
        return 0
    if args.command == "export":
        from utils.tooling import export

        try:
            written = export.export_all()
        except ValueError as err:
            print(err, file=sys.stderr)
            return 1
        for line in written:
            print(line)
        if not written:
            print("export: every generated section is up to date")
        return 0
    if args.command == "labs":
        for line in labs.build_all(force=args.force):
            print(line)
        return 0
    if args.command == "solutions":
        paths = nbfiles.course_notebooks("solutions")
        if args.names:
            wanted = {n.removesuffix(".ipynb") for n in args.names}
            paths = [p for p in paths if p.stem in wanted]
            if not paths:
                print(f"no solution named {sorted(wanted)}", file=sys.stderr)
                return 2
        for i, path in enumerate(paths, 1):
            print(f"[{i}/{len(paths)}] executing {nbfiles.relpath(path)} (smoke) ...", flush=True)
            seconds = runner.refresh_solution(path)
            print(f"      done in {seconds:.1f} s", flush=True)
        for line in labs.build_all():
            print(line)
        return 0
    if args.command == "grade":
        if args.merge:
            grade.merge_shards(Path(args.out))
            return 0
        if not args.submissions:
            parser.error("grade needs the SUBMISSIONS folder (or --merge)")
        limits = grade.Limits(args.cell_seconds, args.notebook_seconds, args.memory_mb)
        grade.grade_folder(
            Path(args.submissions),
            Path(args.out),
            jobs=args.jobs,
            limits=limits,
            seed=args.seed,
            shard=grade.parse_shard(args.shard),
            use_sandbox=False if args.no_sandbox else None,
        )
        return 0
    if args.command == "release":
        from utils.tooling import release

        for line in release.write_release(Path(args.out), repo=args.repo):
            print(line)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
