"""Benchmark: how fast infralint scans a large Kubernetes tree, measured against the YAML parse floor.

Builds a temporary tree of --files files copied round after round from the corpus's Kubernetes files, then
times, on one core: the PyYAML C loader over those files (what loading the YAML alone costs), the in-process
scan of the tree, and a whole `infralint scan` process on one typical Deployment file. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing

from infralint import __version__  # noqa: E402
from infralint.api import ScanOptions, scan  # noqa: E402

RATIO_TARGET = 3.0
SINGLE_FILE_TARGET_MS = 250.0


@dataclass
class CorpusFile:
    source: Path  # where it lives in the corpus
    relative: str  # <owner>__<repo>/<path>, kept as is under each copy folder


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=positive, default=10_000, help="files in the generated tree (default: 10000)")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "corpus",
        help="corpus folder holding files.tsv (default: ../shared/corpus from the repo root)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to create the temp tree (default: system temp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated tree instead of deleting it")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: the lowest allowed one)")
    parser.add_argument(
        "--repeats", type=positive, default=2, help="timed runs per measure; the fastest counts (default: 2)"
    )
    parser.add_argument(
        "--cli-runs", type=positive, default=5, help="runs of the single-file CLI; median counts (default: 5)"
    )
    parser.add_argument(
        "--single-file", type=Path, default=None, help="file for the CLI timing (default: a typical corpus Deployment)"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="add one untimed scan under tracemalloc to report its peak"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, metavar="FILE", help="add one untimed scan under cProfile, save stats"
    )
    return parser.parse_args()


def pin_to_one_core(wanted: int | None) -> int | None:
    """Pin this process (and the CLI children, which inherit it) to one core; None where unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = wanted if wanted is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def k8s_files(corpus: Path) -> list[CorpusFile]:
    """The corpus's Kubernetes files, as listed in files.tsv (repo, commit, type, size, path)."""
    files = []
    with (corpus / "files.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 5 or row[2] != "k8s":
                continue
            relative = f"{row[0].replace('/', '__')}/{row[4]}"
            source = corpus / relative
            if source.is_file():
                files.append(CorpusFile(source, relative))
            else:
                print(f"warning: listed but missing: {relative}", file=sys.stderr)
    if not files:
        sys.exit(f"no k8s files found through {corpus / 'files.tsv'}")
    return files


def build_tree(files: list[CorpusFile], target: int, tree: Path) -> list[Path]:
    """Copy the corpus files round after round (copy-000/, copy-001/, ...) until `target` files exist."""
    copied: list[Path] = []
    while len(copied) < target:
        folder = tree / f"copy-{len(copied) // len(files):03d}"
        for item in files[: target - len(copied)]:
            destination = folder / item.relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item.source, destination)
            copied.append(destination)
    return sorted(copied)


def warm_cache(paths: list[Path]) -> int:
    """Read every file once so the timed runs measure work, not the disk; returns the total bytes."""
    return sum(len(path.read_bytes()) for path in paths)


def parse_floor(paths: list[Path]) -> int:
    """Read, decode and fully load every file with PyYAML's C loader; returns how many files failed to load."""
    failures = 0
    for path in paths:
        text = path.read_bytes().decode("utf-8-sig")
        try:
            for _ in yaml.load_all(text, Loader=yaml.CSafeLoader):
                pass
        except yaml.YAMLError:
            failures += 1  # templated or broken files still cost their partial parse
    return failures


def fastest(repeats: int, work: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """Run `work` `repeats` times; the fastest time, every time, and the last result."""
    times = []
    result: Any = None
    for _ in range(repeats):
        result = None  # let the previous run's result go, so it does not count in the next one's memory
        gc.collect()
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def max_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def is_full_deployment(document: Any) -> bool:
    """A complete Deployment (named, with containers), not a kustomize patch or a fragment."""
    if not isinstance(document, dict) or document.get("kind") != "Deployment" or "apiVersion" not in document:
        return False
    try:
        return bool(document["metadata"]["name"] and document["spec"]["template"]["spec"]["containers"])
    except (KeyError, TypeError):
        return False


def typical_deployment(files: list[CorpusFile]) -> CorpusFile:
    """The median-sized corpus file that holds one complete Deployment and nothing else."""
    candidates = []
    for item in files:
        text = item.source.read_text(encoding="utf-8-sig", errors="replace")
        try:
            documents = [doc for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc]
        except yaml.YAMLError:
            continue
        if len(documents) == 1 and is_full_deployment(documents[0]):
            candidates.append((len(text), item.relative, item))
    if not candidates:
        sys.exit("no single-document Deployment in the corpus to time the CLI on")
    candidates.sort()
    return candidates[len(candidates) // 2][2]


def cli_wall_times(path: Path, runs: int) -> list[float]:
    """Wall time of `python -m infralint scan FILE --format json` as a fresh process, `runs` times."""
    command = [sys.executable, "-m", "infralint", "scan", str(path), "--format", "json"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))

    def once() -> float:
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode not in (0, 1):  # 1 only means findings
            sys.exit(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}")
        return elapsed

    once()  # untimed: warms caches, and writes .pyc files unless PYTHONDONTWRITEBYTECODE is set
    return [once() for _ in range(runs)]


def plain() -> ScanOptions:
    """The scan compared with the parse floor reads files as they are: building the copies'
    kustomize roots would time kubectl, not infralint (rendering is measured on its own)."""
    return ScanOptions(render=False)


def tracemalloc_peak_mib(tree: Path) -> float:
    gc.collect()
    tracemalloc.start()
    scan([str(tree)], plain())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / (1024 * 1024)


def profile_scan(tree: Path, output: Path) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(scan, [str(tree)])
    profiler.dump_stats(output)
    print(f"\ncProfile of one scan saved to {output}; top 15 by cumulative time:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def print_table(results: dict[str, Any]) -> None:
    r = results
    rows = [
        ("files in tree", f"{r['files']:,}", ""),
        ("bytes in tree", f"{r['bytes'] / 1e6:.1f} MB", ""),
        ("parse floor (CSafeLoader)", f"{r['parse_floor_s']:.2f} s", ""),
        ("scan (infralint.api.scan)", f"{r['scan_s']:.2f} s", ""),
        ("scan / parse floor", f"{r['ratio']:.2f}x", f"<= {RATIO_TARGET:g}"),
        ("scan throughput", f"{r['files_per_s']:,.0f} files/s", ""),
        ("findings", f"{r['findings']:,}", ""),
        ("peak RSS (ru_maxrss)", f"{r['peak_rss_mib']:.0f} MiB", ""),
        ("RSS before scan", f"{r['rss_before_scan_mib']:.0f} MiB", ""),
    ]
    if r.get("tracemalloc_peak_mib") is not None:
        rows.append(("tracemalloc peak (scan)", f"{r['tracemalloc_peak_mib']:.0f} MiB", ""))
    rows.append(("CLI on one file (median)", f"{r['cli_median_ms']:.0f} ms", f"< {SINGLE_FILE_TARGET_MS:g} ms"))
    width = max(len(name) for name, _, _ in rows)
    print()
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>16}  {target}")
    verdict = "ok" if r["ratio"] <= RATIO_TARGET and r["cli_median_ms"] < SINGLE_FILE_TARGET_MS else "OVER TARGET"
    load = "" if r["load_average_1m"] is None else f", load average {r['load_average_1m']:.2f}"
    print(f"\n{verdict}  (cpu {r['cpu']}{load}, Python {r['python']}, infralint {r['infralint']})")


def main() -> None:
    args = parse_args()
    cpu = pin_to_one_core(args.cpu)
    corpus_files = k8s_files(args.corpus.resolve())
    single_file = args.single_file or typical_deployment(corpus_files).source
    tree = Path(tempfile.mkdtemp(prefix="infralint-bench-", dir=args.workdir))
    try:
        print(f"building {args.files:,} files from {len(corpus_files)} corpus k8s files in {tree}", file=sys.stderr)
        paths = build_tree(corpus_files, args.files, tree)
        total_bytes = warm_cache(paths)

        print("timing the parse floor", file=sys.stderr)
        floor_s, floor_runs, yaml_failures = fastest(args.repeats, lambda: parse_floor(paths))

        print("timing the scan", file=sys.stderr)
        rss_before = max_rss_mib()
        scan_s, scan_runs, report = fastest(args.repeats, lambda: scan([str(tree)], plain()))
        peak_rss = max_rss_mib()
        findings = len(report.findings)
        files_by_kind = dict(report.files_by_kind)
        del report

        traced = tracemalloc_peak_mib(tree) if args.tracemalloc else None
        if args.profile:
            profile_scan(tree, args.profile)

        print(f"timing the CLI on {single_file}", file=sys.stderr)
        cli_runs = cli_wall_times(single_file, args.cli_runs)
    finally:
        if args.keep:
            print(f"kept {tree}", file=sys.stderr)
        else:
            shutil.rmtree(tree, ignore_errors=True)

    results = {
        "files": len(paths),
        "corpus_k8s_files": len(corpus_files),
        "bytes": total_bytes,
        "parse_floor_s": floor_s,
        "parse_floor_runs_s": floor_runs,
        "parse_floor_yaml_errors": yaml_failures,
        "scan_s": scan_s,
        "scan_runs_s": scan_runs,
        "ratio": scan_s / floor_s,
        "ratio_target": RATIO_TARGET,
        "files_per_s": len(paths) / scan_s,
        "files_by_kind": files_by_kind,
        "findings": findings,
        "rss_before_scan_mib": rss_before,
        "peak_rss_mib": peak_rss,
        "tracemalloc_peak_mib": traced,
        "cli_file": single_file.name if args.single_file else str(single_file.relative_to(args.corpus.resolve())),
        "cli_runs_ms": [t * 1000 for t in cli_runs],
        "cli_median_ms": statistics.median(cli_runs) * 1000,
        "cli_target_ms": SINGLE_FILE_TARGET_MS,
        "cli_writes_pyc": not sys.dont_write_bytecode,  # without .pyc files each CLI run compiles infralint
        "cpu": cpu,
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,  # other work skews timings
        "python": platform.python_version(),
        "pyyaml": yaml.__version__,
        "infralint": __version__,
    }
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
