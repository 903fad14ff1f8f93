"""Plugin benchmark: the cost of the WebAssembly sandbox and of Trovato's tap dispatch.

Measures, in one run, with the variants interleaved round by round so machine noise hits all:

(a) a raw wasmtime component call of ``invoke-tap("item_view", <4 KB JSON>)`` on an instance
    created fresh for each measurement batch (the baseline);
(b) the same 4 KB item dispatched with ``Dispatcher.invoke`` in a ``PluginSession`` whose
    instance already exists, and the overhead (b - a);
(c) a whole request: a fresh ``PluginSession`` dispatching ``item_view`` once to 1, 5 and 10
    plugins (lazy instantiation included), then closed; the 1-plugin request again without
    the pooling allocator (on-demand memory, the runtime's earlier setting), and the throughput
    of 1-plugin requests with 4 in flight at once for both (dropping instances runs on a
    background thread while a process is idle, so latency alone would flatter it; each request
    is counted in flight as the kernel pipeline counts it);
(d) a worker's cold start in a fresh process with a warm ``.cwasm`` cache: process start to
    "10 plugins loaded and one request served", against a 0-plugin process as the baseline.

One benchmark plugin (``benchmarks/plugins/viewer``) is built (cached by source hash) and the same
artifact is loaded under N names to get N distinct plugins without N builds.
Run: ``trovato bench --only plugins`` or ``python benchmarks/bench_plugins.py --seconds N``.
Uses TROVATO_DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import time

_STARTED = time.monotonic()  # the child mode measures its own imports from here

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from trovato.db.pool import Database
from trovato.observability import load
from trovato.observability.metrics import Metrics
from trovato.plugins.build import build_plugin, default_cache_dir
from trovato.plugins.dispatch import Dispatcher
from trovato.plugins.engine import EngineSettings
from trovato.plugins.guest import HOST_FUNCTIONS, HOST_INTERFACE, define_wasi
from trovato.plugins.host import HostServices, PluginUser, RequestHost
from trovato.plugins.info import parse_info
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime
from trovato.plugins.tables import PluginTables
from trovato.store import open_store

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _database import scratch_database

PLUGIN_DIR = HERE / "plugins" / "viewer"
SCRIPT = Path(__file__).resolve()
PAYLOAD_BYTES = 4096
PLUGIN_COUNTS = (1, 5, 10)
CONCURRENCY = 4
COLD_PLUGINS = 10
GOAL_OVERHEAD_US = 50.0
GOAL_ONE_PLUGIN_MS = 2.5
GOAL_COLD_START_S = 1.0
USER = PluginUser(id="0190a0b0-0000-7000-8000-00000000000a", name="bench",
                  roles=("authenticated user",), authenticated=True,
                  permissions=frozenset({"access content"}))


# -- helpers --------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1))]


def summary(values: list[float], scale: float) -> dict[str, float]:
    return {"n": len(values), "p50": pct(values, 0.50) * scale, "p99": pct(values, 0.99) * scale,
            "mean": statistics.fmean(values) * scale}


def item_args() -> dict[str, Any]:
    """item_view arguments whose JSON as sent to the guest (with ``_ctx``) is 4096 bytes."""
    def build(body_len: int) -> dict[str, Any]:
        return {"item": {"id": "0190a0b0-0000-7000-8000-0000000000ff", "type": "page",
                         "title": "A benchmark item", "status": 1,
                         "author_id": "00000000-0000-0000-0000-000000000000",
                         "fields": {"field_body": {"value": "x" * body_len,
                                                   "format": "plain_text"}}},
                "view_mode": "full"}

    base = len(wire_payload(build(0), "viewer"))
    return build(PAYLOAD_BYTES - base)


def wire_payload(args: dict[str, Any], plugin: str) -> str:
    """The text the session sends to ``invoke-tap`` for ``args`` (as Dispatcher builds it)."""
    call = dict(args)
    call["_ctx"] = {"user": USER.public(), "plugin": plugin}
    return json.dumps(call, separators=(",", ":"), default=str)


async def open_services(url: str) -> tuple[Database, Any, HostServices]:
    database = Database(url, min_size=1, max_size=4)
    await database.open()
    store = await open_store(database, redis_url=None)
    return database, store, HostServices(database, store.cache, store.queue,
                                         PluginTables(database, {}))


def load_many(runtime: PluginRuntime, artifact: Path, count: int) -> dict[str, LoadedPlugin]:
    """The same component loaded under ``count`` names (viewer, viewer_2, ...)."""
    limits = parse_info(PLUGIN_DIR).limits
    names = ["viewer"] + [f"viewer_{i}" for i in range(2, count + 1)]
    return {name: runtime.load(name, artifact, limits) for name in names}


async def serve_request(runtime: PluginRuntime, plugins: dict[str, LoadedPlugin],
                        dispatcher: Dispatcher, services: HostServices,
                        args: dict[str, Any], request_id: str) -> Any:
    host = RequestHost(services, USER, request_id=request_id)
    load.request_started()  # counted in flight, as the kernel pipeline counts a request
    try:
        async with runtime.session(plugins, host) as session:
            outcome = await dispatcher.invoke(session, "item_view", args)
    finally:
        load.request_finished()
    if outcome.failures or len(outcome.value) != len(plugins):
        raise RuntimeError(f"item_view failed: {outcome.failures}")
    return outcome.value


# -- (d) child: a worker's cold start -------------------------------------------------------

async def _child(args: argparse.Namespace) -> None:
    imported = time.monotonic()
    database, store, services = await open_services(args.database_url)
    db_open = time.monotonic()
    runtime = PluginRuntime(args.compiled_dir)
    plugins = load_many(runtime, Path(args.artifact), args.plugins) if args.plugins else {}
    loaded = time.monotonic()
    dispatcher = Dispatcher({"item_view": list(plugins)}, Metrics())
    host = RequestHost(services, USER, request_id="cold")
    async with runtime.session(plugins, host) as session:
        outcome = await dispatcher.invoke(session, "item_view", item_args())
    served = time.monotonic()
    if outcome.failures or len(outcome.value) != len(plugins):
        raise RuntimeError(f"item_view failed: {outcome.failures}")
    print(json.dumps({
        "from_cache": all(p.from_cache for p in plugins.values()),
        "interpreter_and_imports_s": imported - args.parent_started,
        "db_open_s": db_open - imported, "load_s": loaded - db_open,
        "first_request_s": served - loaded, "total_s": served - args.parent_started,
    }), flush=True)
    await store.close()
    await database.close()


def cold_start(script: Path, url: str, artifact: Path, compiled: Path, plugins: int
               ) -> dict[str, Any]:
    started = time.monotonic()  # CLOCK_MONOTONIC is system-wide: the child can subtract it
    out = subprocess.run(
        [sys.executable, str(script), "--child", "--database-url", url, "--artifact",
         str(artifact), "--compiled-dir", str(compiled), "--plugins", str(plugins),
         "--parent-started", repr(started)],
        capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- (a), (b), (c): in-process measurements -------------------------------------------------

def _no_host_calls(_store: Any, *_args: Any) -> None:
    raise RuntimeError("the viewer plugin makes no host calls")


def raw_batch(runtime: PluginRuntime, loaded: LoadedPlugin, payload: str, seconds: float
              ) -> list[float]:
    """(a) wasmtime-py directly: a fresh instance, one untimed warm-up call, then timed calls.

    Plain synchronous wasmtime-py, with the runtime's WASI and the host imports defined as
    traps (the viewer makes no host calls): the cheapest way wasmtime can call this component."""
    from wasmtime import Store, WasiConfig
    from wasmtime.component import Linker

    linker = Linker(runtime.engine)
    define_wasi(linker)
    with linker.root() as root, root.add_instance(HOST_INTERFACE) as host:
        for name in HOST_FUNCTIONS:
            host.add_func(name, _no_host_calls)
    store = Store(runtime.engine)  # fuel and epochs are on in the engine: give plenty of both
    store.set_wasi(WasiConfig())
    store.set_fuel(10**15)
    store.set_epoch_deadline(10**9)
    instance = linker.instantiate(store, loaded.component)
    func = instance.get_func(store, "invoke-tap")
    assert func is not None
    result = func(store, "item_view", payload)
    assert result.tag == "ok", result.payload
    times: list[float] = []
    clock = time.perf_counter
    stop = clock() + seconds
    while clock() < stop:
        t0 = clock()
        func(store, "item_view", payload)
        times.append(clock() - t0)
    return times


async def dispatch_batch(runtime: PluginRuntime, loaded: LoadedPlugin, dispatcher: Dispatcher,
                         services: HostServices, args: dict[str, Any], seconds: float,
                         mode: str = "invoke") -> list[float]:
    """(b) Dispatcher.invoke in a session whose instance exists (created by a warm-up call).

    ``mode`` picks a layer for the breakdown: ``call`` (the session's core: fuel, deadline, the
    async call polled on the loop, result check, JSON decoding), ``call_tap`` (adds JSON
    encoding and the session lock) or ``invoke`` (the full dispatcher: adds payload and result
    schema validation, argument copies and metrics).
    """
    host = RequestHost(services, USER, request_id="bench-b")
    wire = dict(args)
    wire["_ctx"] = {"user": USER.public(), "plugin": loaded.name}
    text = json.dumps(wire, separators=(",", ":"))
    times: list[float] = []
    clock = time.perf_counter
    async with runtime.session({loaded.name: loaded}, host) as session:
        await dispatcher.invoke(session, "item_view", args)
        stop = clock() + seconds
        while clock() < stop:
            if mode == "call":
                t0 = clock()
                await session.call(loaded.name, "invoke-tap", "item_view", text)
                times.append(clock() - t0)
            elif mode == "call_tap":
                t0 = clock()
                await session.call_tap(loaded.name, "item_view", wire)
                times.append(clock() - t0)
            else:
                t0 = clock()
                outcome = await dispatcher.invoke(session, "item_view", args)
                times.append(clock() - t0)
                if outcome.failures:
                    raise RuntimeError(f"item_view failed: {outcome.failures}")
        assert session.instantiated == 1
    return times


async def request_batch(runtime: PluginRuntime, plugins: dict[str, LoadedPlugin],
                        dispatcher: Dispatcher, services: HostServices, args: dict[str, Any],
                        seconds: float) -> list[float]:
    """(c) whole requests: fresh session, item_view to every plugin, close."""
    times: list[float] = []
    clock = time.perf_counter
    stop = clock() + seconds
    while clock() < stop or len(times) < 3:
        t0 = clock()
        await serve_request(runtime, plugins, dispatcher, services, args, f"bench-c{len(times)}")
        times.append(clock() - t0)
    return times


async def throughput_batch(runtime: PluginRuntime, plugins: dict[str, LoadedPlugin],
                           dispatcher: Dispatcher, services: HostServices,
                           args: dict[str, Any], seconds: float) -> tuple[int, float]:
    """(c) requests completed with CONCURRENCY in flight: (count, elapsed seconds)."""
    clock = time.perf_counter
    started = clock()
    stop = started + seconds
    done = 0

    async def client(n: int) -> None:
        nonlocal done
        while clock() < stop:
            await serve_request(runtime, plugins, dispatcher, services, args, f"bench-t{n}")
            done += 1

    await asyncio.gather(*(client(n) for n in range(CONCURRENCY)))
    return done, clock() - started


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    print("building the viewer plugin (cached by source hash) ...", flush=True)
    build = build_plugin(PLUGIN_DIR, cache_dir=args.cache_dir / "plugin-builds")
    compiled = args.cache_dir / "compiled"
    runtime = PluginRuntime(compiled)
    loaded = load_many(runtime, build.artifact, max(PLUGIN_COUNTS))
    viewer = loaded["viewer"]
    sets = {n: dict(list(loaded.items())[:n]) for n in PLUGIN_COUNTS}
    # The earlier allocation strategy too (same artifact: pooling does not change compiled
    # code).
    on_demand = PluginRuntime(compiled, EngineSettings(pooling=False))
    variants = {"default": (runtime, sets[1]),
                "on_demand": (on_demand, load_many(on_demand, build.artifact, 1))}
    dispatchers = {n: Dispatcher({"item_view": list(plugins)}, Metrics())
                   for n, plugins in sets.items()}
    call_args = item_args()
    payload = wire_payload(call_args, "viewer")
    assert len(payload) == PAYLOAD_BYTES, len(payload)

    database, store, services = await open_services(url)
    try:
        slice_s = args.seconds / args.rounds
        raw: list[float] = []
        disp: list[float] = []
        layers: dict[str, list[float]] = {"call": [], "call_tap": []}
        per_round: list[float] = []  # paired overhead: median(b) - median(a) in each round
        requests: dict[int, list[float]] = {n: [] for n in PLUGIN_COUNTS}
        other: dict[str, list[float]] = {"on_demand": []}
        tput: dict[str, list[float]] = {key: [0, 0.0] for key in variants}
        # Warm-up (untimed): page in code, fill allocator pools.
        raw_batch(runtime, viewer, payload, 0.2)
        await dispatch_batch(runtime, viewer, dispatchers[1], services, call_args, 0.2)
        for n in PLUGIN_COUNTS:
            await request_batch(runtime, sets[n], dispatchers[n], services, call_args, 0.1)
        print(f"measuring: {args.rounds} interleaved rounds x {slice_s:.2f} s per variant ...",
              flush=True)
        for _ in range(args.rounds):
            a = raw_batch(runtime, viewer, payload, slice_s)
            b = await dispatch_batch(runtime, viewer, dispatchers[1], services, call_args,
                                     slice_s)
            raw += a
            disp += b
            per_round.append(statistics.median(b) - statistics.median(a))
            for mode, values in layers.items():
                values += await dispatch_batch(runtime, viewer, dispatchers[1], services,
                                               call_args, slice_s / 2, mode)
            for n in PLUGIN_COUNTS:
                requests[n] += await request_batch(runtime, sets[n], dispatchers[n], services,
                                                   call_args, slice_s)
            for label, values in other.items():
                rt, plugins = variants[label]
                values += await request_batch(rt, plugins, dispatchers[1], services,
                                              call_args, slice_s)
            for label, (rt, plugins) in variants.items():
                count, elapsed = await throughput_batch(rt, plugins, dispatchers[1], services,
                                                        call_args, slice_s)
                tput[label][0] += count
                tput[label][1] += elapsed
    finally:
        await store.close()
        await database.close()

    # (d) cold starts, interleaved with a 0-plugin process (same imports and DB open).
    print(f"cold starts: {args.cold_runs} x (0 plugins, {COLD_PLUGINS} plugins) ...", flush=True)
    cold: dict[int, list[dict[str, Any]]] = {0: [], COLD_PLUGINS: []}
    for _ in range(args.cold_runs):
        for n in cold:
            cold[n].append(cold_start(SCRIPT, url, build.artifact, compiled, n))

    return {"build": build, "viewer": viewer, "raw": raw, "dispatch": disp, "layers": layers,
            "per_round_overhead": per_round, "requests": requests, "cold": cold,
            "payload_bytes": len(payload), "other_requests": other,
            "throughput": {k: c / e for k, (c, e) in tput.items()}}


# -- report ---------------------------------------------------------------------------------

def report(m: dict[str, Any], args: argparse.Namespace, load_avg: float) -> dict[str, Any]:
    a = summary(m["raw"], 1e6)
    b = summary(m["dispatch"], 1e6)
    layers = {k: summary(v, 1e6) for k, v in m["layers"].items()}
    overhead_p50 = b["p50"] - a["p50"]
    overhead_p99 = b["p99"] - a["p99"]
    rounds_us = [x * 1e6 for x in m["per_round_overhead"]]
    req = {n: summary(v, 1e3) for n, v in m["requests"].items()}
    cold = {n: {key: statistics.median(r[key] for r in runs)
                for key in runs[0] if key.endswith("_s")} for n, runs in m["cold"].items()}
    c10, c0 = cold[COLD_PLUGINS], cold[0]
    verdict = {
        "b_overhead_below_50us": overhead_p50 < GOAL_OVERHEAD_US,
        "c_one_plugin_p50_at_most_2_5ms": req[1]["p50"] <= GOAL_ONE_PLUGIN_MS,
        "d_cold_start_below_1s": c10["total_s"] < GOAL_COLD_START_S,
    }

    def met(ok: bool) -> str:
        return "MET" if ok else "NOT MET"

    build, viewer = m["build"], m["viewer"]
    print()
    print(f"plugin: benchmarks/plugins/viewer ({build.size / 1e6:.1f} MB component"
          f"{', cached build' if build.cached else f', built in {build.seconds:.1f} s'}); "
          f"item_view payload {m['payload_bytes']} bytes of JSON")
    print(f"N plugins = the SAME viewer artifact loaded under N names with runtime.load(name, "
          f"artifact, limits) (one build instead of N); load avg at start {load_avg:.2f} "
          f"on {os.cpu_count()} cores (noisy machine: compare ratios within this run)")
    print(f"{args.rounds} interleaved rounds x {args.seconds / args.rounds:.2f} s per variant; "
          f"cold starts: median of {args.cold_runs}")
    print()
    header = f"{'measurement':44} {'n':>6} {'p50':>10} {'p99':>10}  {'vs baseline':>14}  goal"
    print(header)
    print("-" * (len(header) + 24))
    print(f"{'(a) raw wasmtime invoke-tap, 4 KB (baseline)':44} {a['n']:6d} "
          f"{a['p50']:7.1f} µs {a['p99']:7.1f} µs  {'1.00x':>14}")
    print(f"{'(b) Dispatcher.invoke, instance exists':44} {b['n']:6d} "
          f"{b['p50']:7.1f} µs {b['p99']:7.1f} µs  {b['p50'] / a['p50']:13.2f}x")
    print(f"{'    overhead (b - a)':44} {'':6} {overhead_p50:7.1f} µs {overhead_p99:7.1f} µs  "
          f"{'':14}  < {GOAL_OVERHEAD_US:.0f} µs (p50): {met(verdict['b_overhead_below_50us'])}")
    print(f"{'    overhead per round, median (min..max)':44} {'':6} "
          f"{statistics.median(rounds_us):7.1f} µs  ({min(rounds_us):.1f}..{max(rounds_us):.1f}"
          f" µs)")
    for label, layer in (("    breakdown: session.call (async, on loop)", layers["call"]),
                         ("    breakdown: session.call_tap (+JSON, lock)", layers["call_tap"])):
        print(f"{label:44} {layer['n']:6d} {layer['p50']:7.1f} µs {layer['p99']:7.1f} µs  "
              f"{layer['p50'] / a['p50']:13.2f}x  (+{layer['p50'] - a['p50']:.0f} µs over a)")
    for n in PLUGIN_COUNTS:
        r = req[n]
        label = f"(c) request, {n} plugin{'s' if n > 1 else ''} (fresh session)"
        goal = (f"<= {GOAL_ONE_PLUGIN_MS} ms (p50): "
                f"{met(verdict['c_one_plugin_p50_at_most_2_5ms'])}") if n == 1 else ""
        ratio = "1.00x (base)" if n == 1 else f"{r['p50'] / req[1]['p50']:.2f}x"
        print(f"{label:44} {r['n']:6d} {r['p50']:7.2f} ms {r['p99']:7.2f} ms  {ratio:>14}  "
              f"{goal}")
    others = {k: summary(v, 1e3) for k, v in m["other_requests"].items()}
    o = others["on_demand"]
    print(f"{'(c) request, 1 plugin, on-demand memory':44} {o['n']:6d} {o['p50']:7.2f} ms "
          f"{o['p99']:7.2f} ms  {o['p50'] / req[1]['p50']:13.2f}x  (no pooling allocator)")
    tp = m["throughput"]
    for key, label in (("default", "defaults"), ("on_demand", "on-demand memory")):
        print(f"{f'(c) throughput, 1 plugin, {CONCURRENCY} in flight, {label}':44} {'':6} "
              f"{tp[key]:7.0f} /s {'':10}  {tp[key] / tp['default']:13.2f}x")
    print(f"{'(d) cold start, 0 plugins (baseline)':44} {args.cold_runs:6d} "
          f"{c0['total_s'] * 1e3:7.0f} ms {'':10}  {'1.00x':>14}")
    print(f"{f'(d) cold start, {COLD_PLUGINS} plugins, to 1st request':44} {args.cold_runs:6d} "
          f"{c10['total_s'] * 1e3:7.0f} ms {'':10}  {c10['total_s'] / c0['total_s']:13.2f}x  "
          f"< {GOAL_COLD_START_S:.0f} s: {met(verdict['d_cold_start_below_1s'])}")
    print(f"{'    of which: interpreter + imports':44} {'':6} "
          f"{c10['interpreter_and_imports_s'] * 1e3:7.0f} ms")
    print(f"{'    of which: database pool open':44} {'':6} {c10['db_open_s'] * 1e3:7.0f} ms")
    print(f"{f'    of which: load {COLD_PLUGINS} plugins (deserialize)':44} {'':6} "
          f"{c10['load_s'] * 1e3:7.0f} ms {'':10}  "
          f"{c10['load_s'] * 1e3 / COLD_PLUGINS:8.1f} ms each")
    print(f"{'    of which: first request (10 instances)':44} {'':6} "
          f"{c10['first_request_s'] * 1e3:7.0f} ms")
    print()
    print("(a) calls the component's invoke-tap export with wasmtime-py on an instance created\n"
          "    per batch (one untimed warm-up call each); (b) adds JSON encode/decode, schema\n"
          "    validation, the session lock, wasmtime's async call and metrics (breakdown\n"
          "    rows use half-length batches); (c) includes lazy instantiation of each plugin\n"
          "    (fresh instances only; dropping them runs on the runtime's reaper thread);\n"
          "    (d) load = Component.deserialize_file from the warm .cwasm cache + describe().")
    if not all(r["from_cache"] for r in m["cold"][COLD_PLUGINS]):
        print("WARNING: a cold start did not find the compiled (.cwasm) cache warm")
    return {
        "payload_bytes": m["payload_bytes"], "plugin_size_bytes": build.size,
        "same_artifact_under_n_names": True, "load_avg": load_avg,
        "rounds": args.rounds, "seconds": args.seconds,
        "raw_invoke_us": a, "dispatch_us": b, "dispatch_layers_us": layers,
        "overhead_us": {"p50": overhead_p50, "p99": overhead_p99, "per_round": rounds_us},
        "request_ms": {str(n): v for n, v in req.items()},
        "request_other_ms": others, "throughput_per_s": tp, "concurrency": CONCURRENCY,
        "cold_start_s": {str(n): v for n, v in cold.items()},
        "cold_start_runs": {str(n): v for n, v in m["cold"].items()},
        "single_load_s": viewer.load_seconds,
        "goals": {"overhead_us": GOAL_OVERHEAD_US, "one_plugin_p50_ms": GOAL_ONE_PLUGIN_MS,
                  "cold_start_s": GOAL_COLD_START_S},
        "verdicts": verdict,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10,
                        help="measuring time per variant, split over the rounds")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir().parent,
                        help="holds plugin-builds/ and compiled/ (.cwasm); kept between runs")
    # Internal: the cold-start child process.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--artifact", help=argparse.SUPPRESS)
    parser.add_argument("--compiled-dir", help=argparse.SUPPRESS)
    parser.add_argument("--plugins", type=int, default=COLD_PLUGINS, help=argparse.SUPPRESS)
    parser.add_argument("--parent-started", type=float, default=_STARTED,
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_child(args))
        return

    load_avg = os.getloadavg()[0]
    with scratch_database("plugins") as url:
        measured = asyncio.run(measure(url, args))
        data = report(measured, args, load_avg)
        out = HERE / "results"
        out.mkdir(exist_ok=True)
        (out / "plugins.json").write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
