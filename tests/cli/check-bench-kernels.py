#!/usr/bin/python3
"""Smoke test of `kestrel-cli bench-kernels --json --quick`.

Checks the shape of the report, never the timings (the machines are shared
and noisy): it parses, every kernel is there, every measured kernel has a
scalar result whose ratio_to_scalar is exactly 1, medians are positive, and
the memory-bound kernels carry their memcpy comparison.

Until a kernel family lands its table entries are NULL and the benchmark
skips them with a note; that is accepted unless the ISA's table claims to be
complete.

Usage: check-bench-kernels.py KESTREL_CLI
"""
import json
import math
import subprocess
import sys

KERNELS = [
    "gray_from_rgba8", "gray_from_rgb8", "gray_from_bgra8", "threshold_u8",
    "mean_var_f32", "normalize_f32",
    "f32_to_f16", "f16_to_f32",
    "quantize_f32_s8", "quantize_f32_u8", "dequantize_s8_f32", "dequantize_u8_f32",
    "resize_bilinear_u8", "model_input",
]
MEMORY_BOUND = {
    "gray_from_rgba8", "gray_from_rgb8", "gray_from_bgra8", "threshold_u8",
    "f32_to_f16", "f16_to_f32",
    "quantize_f32_s8", "quantize_f32_u8", "dequantize_s8_f32", "dequantize_u8_f32",
}
CASES = {"resize_bilinear_u8": 4, "model_input": 2}

failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
    return cond


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def check_entry(k, tables_complete, peer_available):
    where = f"{k.get('name')} ({k.get('case')})"
    results = k.get("results")
    if not check(isinstance(results, list), f"{where}: no results array"):
        return
    check(positive(k.get("input_bytes")), f"{where}: input_bytes not positive")
    by_isa = {r.get("isa"): r for r in results}
    skipped = {s.get("isa"): s for s in k.get("skipped", [])}

    for isa, complete in tables_complete.items():
        if isa in by_isa:
            continue
        check(isa in skipped and skipped[isa].get("reason"),
              f"{where}: no result for {isa} and no reason given")
        check(not complete, f"{where}: {isa}'s table is complete yet it was not measured")

    if not results:
        print(f"# note: {where}: not measured yet ({', '.join(sorted(skipped))} skipped)")
        return

    if check("scalar" in by_isa, f"{where}: no scalar result"):
        check(by_isa["scalar"].get("ratio_to_scalar") == 1,
              f"{where}: scalar ratio_to_scalar is {by_isa['scalar'].get('ratio_to_scalar')}, not 1")

    for r in results:
        isa = r.get("isa")
        check(positive(r.get("median_ns")), f"{where} {isa}: median_ns not positive")
        check(positive(r.get("gbps")), f"{where} {isa}: gbps not positive")
        if "scalar" in by_isa:
            check(positive(r.get("ratio_to_scalar")), f"{where} {isa}: ratio_to_scalar missing")
        if k["name"] in MEMORY_BOUND:
            check(positive(r.get("ratio_to_memcpy")), f"{where} {isa}: ratio_to_memcpy missing")

    if k["name"] in MEMORY_BOUND:
        m = k.get("memcpy")
        if check(isinstance(m, dict), f"{where}: memory-bound but no memcpy"):
            check(positive(m.get("median_ns")), f"{where}: memcpy median_ns not positive")
            check(positive(m.get("gbps")), f"{where}: memcpy gbps not positive")

    peer = k.get("peer")
    if peer is not None:
        check(peer_available, f"{where}: a peer result though the peer is unavailable")
        if "error" in peer:
            print(f"# note: {where}: peer failed: {peer['error']}")
        else:
            check(positive(peer.get("median_ns")), f"{where}: peer median_ns not positive")
            speedup = peer.get("kestrel_speedup", {})
            for isa in by_isa:
                check(positive(speedup.get(isa)), f"{where}: no kestrel_speedup for {isa}")
    elif peer_available and k["name"] in ("gray_from_rgba8", "model_input"):
        failures.append(f"{where}: OpenCV is available but there is no peer result")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    cli = sys.argv[1]
    proc = subprocess.run([cli, "bench-kernels", "--json", "--quick"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"FAIL: kestrel-cli exited with {proc.returncode}")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        sys.exit(f"FAIL: output is not JSON: {e}\n{proc.stdout[:2000]}")

    check(report.get("threads") == 1, "threads is not 1")
    check(isinstance(report.get("runs"), int) and report["runs"] > 0, "runs not a positive integer")
    check(isinstance(report.get("cpu"), str), "cpu is not a string")
    tables_complete = report.get("tables_complete", {})
    check("scalar" in tables_complete, "no scalar table")
    opencv = report.get("peers", {}).get("opencv", {})
    check("available" in opencv, "peers.opencv.available missing")
    peer_available = bool(opencv.get("available"))
    if not peer_available:
        check(bool(opencv.get("reason")), "OpenCV peer unavailable without a reason")
        print(f"# note: OpenCV peer unavailable: {opencv.get('reason')}")

    entries = report.get("kernels", [])
    names = [k.get("name") for k in entries]
    for name in KERNELS:
        expected = CASES.get(name, 1)
        check(names.count(name) == expected,
              f"{name}: {names.count(name)} entries, expected {expected}")
    for k in entries:
        check_entry(k, tables_complete, peer_available)

    measured = sum(1 for k in entries if k.get("results"))
    print(f"# {measured} of {len(entries)} cases measured on {', '.join(tables_complete)}")
    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
