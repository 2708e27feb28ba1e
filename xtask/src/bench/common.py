# Shared by the Python helper scripts of `cargo xtask bench` (bench.rs's PY_COMMON is
# written in front of each): the process's anonymous memory, and floats as JSON values.


def rss_anon_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fval(x):
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return x

