# The Python contenders of the Zarr rows of `cargo xtask bench` (xtask/src/bench/zarr.rs).
# sys.argv[1] is a JSON object: {"mode": "probe"} prints the versions of zarr, zarrs and dask
# (null when one does not import); {"mode": "serve", "contender": "zarr"|"zarrs"|"dask",
# "op": ..., "input": ..., "output": ..., "chunks": [..], "threads": N} times one operation per
# "run" line on stdin, answering each with {"time": seconds, "value": ...}, as the numpy
# helper does. Interpreter start-up and imports are not timed.
import json, os, shutil, sys, time

import numpy as np


def version(name):
    try:
        module = __import__(name)
        return getattr(module, "__version__", "?")
    except Exception:
        return None


def save_synced(path, arr):
    with open(path, "wb") as f:
        np.save(f, arr)
        f.flush()
        os.fsync(f.fileno())


def bands(z):
    # One band of chunk rows at a time: bounded memory, every chunk of a band decoded by the
    # codec pipeline in parallel.
    step = z.chunks[0]
    for i in range(0, z.shape[0], step):
        yield z[i:i + step]


def stats_of(parts):
    # count, sum, min, max and the std of all parts, combined with Chan et al.'s formula.
    n, total, lo, hi, mean, m2 = 0, 0.0, None, None, 0.0, 0.0
    for b in parts:
        k = b.size
        s = float(np.sum(b))
        mb = s / k
        m2b = float(np.sum((b - mb) ** 2))
        delta = mb - mean
        m2 += m2b + delta * delta * n * k / (n + k)
        mean += delta * k / (n + k)
        n += k
        total += s
        bmin, bmax = np.min(b), np.max(b)
        lo = bmin if lo is None else min(lo, bmin)
        hi = bmax if hi is None else max(hi, bmax)
    return {"count": n, "sum": fval(total), "mean": fval(total / n), "min": fval(lo),
            "max": fval(hi), "std": fval((m2 / n) ** 0.5)}


def runner(cfg):
    import zarr
    contender = cfg["contender"]
    op = cfg["op"]
    src = cfg.get("input")
    out = cfg.get("output")
    chunks = tuple(cfg.get("chunks") or ())
    if contender == "zarrs":
        import zarrs  # noqa: F401
        zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
    if contender == "dask":
        import dask
        import dask.array as da
        dask.config.set(scheduler="threads", num_workers=cfg["threads"])

    def convert():
        a = np.load(src, mmap_mode="r")
        z = zarr.create_array(out, shape=a.shape, chunks=chunks, dtype=a.dtype,
                              compressors=zarr.codecs.ZstdCodec(level=1))
        z[...] = a
        del z
        os.sync()  # durable, as mmarray's store is (it syncs before renaming it into place)

    def run():
        if op == "zarr_convert":
            if contender == "dask":
                raise SystemExit("dask is not a contender of zarr_convert")
            return convert()
        if contender == "dask":
            a = da.from_zarr(src)
            if op in ("zarr_sum", "zarr_sum_raw"):
                return fval(a.sum().compute())
            if op == "zarr_stats":
                s, m, lo, hi, sd = da.compute(a.sum(), a.mean(), a.min(), a.max(), a.std())
                return {"count": int(a.size), "sum": fval(s), "mean": fval(m),
                        "min": fval(lo), "max": fval(hi), "std": fval(sd)}
            if op == "zarr_axis0":
                save_synced(out, a.sum(axis=0).compute())
                return None
        else:
            z = zarr.open_array(src, mode="r")
            if op in ("zarr_sum", "zarr_sum_raw"):
                return fval(sum(float(np.sum(b)) for b in bands(z)))
            if op == "zarr_stats":
                return stats_of(bands(z))
            if op == "zarr_axis0":
                acc = np.zeros(z.shape[1], dtype=np.float64)
                for b in bands(z):
                    acc += np.sum(b, axis=0)
                save_synced(out, acc)
                return None
        raise SystemExit("unknown op " + op)

    return run


def serve(cfg):
    run = runner(cfg)
    print(json.dumps({"ready": True, "base_rss_anon_kib": rss_anon_kib()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        out = cfg.get("output")
        if out and os.path.isdir(out):
            shutil.rmtree(out)
        t0 = time.perf_counter()
        value = run()
        t1 = time.perf_counter()
        print(json.dumps({"time": t1 - t0, "value": value}), flush=True)


def main():
    cfg = json.loads(sys.argv[1])
    if cfg["mode"] == "probe":
        zarrs = version("zarrs")
        print(json.dumps({"zarr": version("zarr"), "zarrs": zarrs, "dask": version("dask")}))
    else:
        serve(cfg)


main()
