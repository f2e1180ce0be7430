#!/usr/bin/env python3
"""Moves job results and checkpoints from the per-study layout into the shared job store.

Before the store, each study kept its job results in `results/<study>/jobs/<job>.json.gz`
and its trained models in `<checkpoints>/seed<s>/<run>/`. The store keeps both by job name
and key prefix: `<store>/jobs/<job>.<key[:16]>.json.gz` and
`<store>/checkpoints/<job>.<key[:16]>/`. Each result file names its job and key, so the move
needs no plan; keys do not change.

    python3 scripts/migrate_store.py results/mnist [--checkpoints OLD_DIR] [--store DIR]

Runs `git mv` where the results are tracked, so the history follows the files. A result
already in the store (the same job and key from another study) is identical and is removed
from the study (the first study migrated keeps its wall times). Run it with no bakeoff
running on the study.
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

KEY_PREFIX = 16


def tracked(path: Path) -> bool:
    path = path.resolve()
    result = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(path)],
        capture_output=True,
        cwd=path.parent,
    )
    return result.returncode == 0


def move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if tracked(source):
        subprocess.run(["git", "mv", str(source.resolve()), str(target.resolve())], check=True)
    else:
        os.replace(source, target)


def remove(path: Path) -> None:
    if tracked(path):
        subprocess.run(["git", "rm", "-q", str(path.resolve())], check=True)
    else:
        path.unlink()


def without_timing(value):
    """`value` without its wall times, which differ between two runs of one job."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if "second" not in k}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def legacy_model_dir(checkpoints: Path, job: str) -> Path | None:
    """Where the per-study layout kept the model a job trained, if it trained one."""
    parts = job.split("/")
    if len(parts) == 3 and parts[1] == "train":
        return checkpoints / parts[0] / parts[2]
    if job == "instrument/classifier":
        found = sorted((checkpoints / "instrument").glob("classifier_seed*"))
        return found[0] if found else None
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path, help="results directory, e.g. results/mnist")
    parser.add_argument("--store", type=Path, help="default: the `store` beside the study")
    parser.add_argument("--checkpoints", type=Path, help="the study's old checkpoints")
    args = parser.parse_args()
    store = args.store or args.study.parent / "store"
    jobs = args.study / "jobs"
    if not jobs.is_dir():
        print(f"{jobs} does not exist: nothing to migrate", file=sys.stderr)
        return 1
    moved = duplicates = models = 0
    for source in sorted(jobs.rglob("*.json.gz")):
        with gzip.open(source) as f:
            cached = json.load(f)
        job, key = cached["job"], cached["key"]
        stored = f"{job}.{key[:KEY_PREFIX]}"
        target = store / "jobs" / f"{stored}.json.gz"
        if target.exists():
            with gzip.open(target) as f:
                if without_timing(json.load(f)) != without_timing(cached):
                    print(f"{target} differs from {source}: left both", file=sys.stderr)
                    continue
            remove(source)
            duplicates += 1
        else:
            move(source, target)
            moved += 1
        old = args.checkpoints and legacy_model_dir(args.checkpoints, job)
        new = store / "checkpoints" / stored
        if old and old.is_dir() and not new.exists():
            new.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(old), str(new))
            models += 1
    key = jobs / "report.key"
    if key.exists():
        move(key, args.study / "report.key")
    for leftover in sorted(jobs.rglob("*"), reverse=True):
        if leftover.is_dir() and not any(leftover.iterdir()):
            leftover.rmdir()
    if jobs.is_dir() and not any(jobs.iterdir()):
        jobs.rmdir()
    print(
        f"{args.study}: {moved} results moved to {store}, {duplicates} already there, "
        f"{models} trained models moved"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
