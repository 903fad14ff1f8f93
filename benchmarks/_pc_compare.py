"""TEMPORARY (not committed): cached pages, new vs old code, same run."""
import asyncio, os, signal, sys, time
from pathlib import Path
import httpx
sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database
from _load import free_port, measure_interleaved, run_load, start_granian, wait_until_up
import bench_content

def main() -> None:
    rounds = int(sys.argv[1]); seconds = int(sys.argv[2])
    procs = []
    with scratch_database("pccmp") as url:
        try:
            item = asyncio.run(bench_content._prepare(url, ()))
            common = {"TROVATO_SLOW_REQUEST_MS": "10000", "TROVATO_PAGE_CACHE_SECONDS": "3600",
                      "TROVATO_DB_POOL_MAX": "5", "TROVATO_FRONT_PAGE_ITEMS": "25",
                      "TROVATO_DATABASE_URL": url}
            new = str(Path(__file__).parent.parent / "src")
            variants = {"bare": ("bare_app:app", False, "/", new),
                        "item-cached": ("trovato.app:create_app", True, f"/item/{item}", new),
                        "front-cached": ("trovato.app:create_app", True, "/", new),
                        "item-cached-old": ("trovato.app:create_app", True, f"/item/{item}", "/tmp/pc_old/src"),
                        "front-cached-old": ("trovato.app:create_app", True, "/", "/tmp/pc_old/src")}
            urls = {}
            for name, (target, factory, path, pp) in variants.items():
                port = free_port()
                procs.append(start_granian(target, port, 2, {**common, "PYTHONPATH": pp}, factory))
                urls[name] = f"http://127.0.0.1:{port}{path}"
            for name, u in urls.items():
                wait_until_up(u)
                for _ in range(5): httpx.get(u)
                run_load(u, seconds=2, connections=32)
                if name != "bare":
                    assert httpx.get(u).headers["x-trovato-cache"] == "HIT", name
            best = measure_interleaved(urls, rounds=rounds, seconds=seconds, connections=32)
            base = best["bare"].requests_per_s
            for name, r in best.items():
                print(f"{name:18} {r.row()}  {r.requests_per_s / base:6.1%} of bare", flush=True)
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGINT); p.wait(15)

main()
