//! The outputs: progress lines, the text table, the JSON document and `docs/benchmarks.md`.

use std::fmt::Write as _;

use super::cli::{format_size, format_size_compact};
use super::json::Json;
use super::ops::{Limit, Op, RSS_ANON_TARGET_MIB};
use super::procs::{Samples, kib_to_mib};
use super::{Limits, Results, Row, Side};

/// GB/s with sensible precision.
pub(crate) fn fmt_gbs(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 0.1 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// `median [slowest-fastest]` GB/s of a side.
fn gbs_cell(samples: &Samples, bytes: u64) -> String {
    let (m, lo, hi) = samples.gbs(bytes);
    if samples.times.len() > 1 {
        format!("{} [{}-{}]", fmt_gbs(m), fmt_gbs(lo), fmt_gbs(hi))
    } else {
        fmt_gbs(m)
    }
}

/// Fewer samples than this mark a peak `RssAnon` as uncertain (`*`).
const FEW_SAMPLES: u32 = 5;

/// Peak `RssAnon` in MiB (`*` when the process ran too briefly to be sampled well), or `-`.
fn rss_cell(side: &Side) -> String {
    side.mem.rss_anon_peak_kib.map_or_else(
        || "-".into(),
        |k| {
            let mark = if side.mem.samples < FEW_SAMPLES {
                "*"
            } else {
                ""
            };
            format!("{:.1}{mark}", kib_to_mib(k))
        },
    )
}

/// The footnote for `*`.
const FEW_SAMPLES_NOTE: &str = "RssAnon marked * was sampled fewer than 5 times (the process \
     ran for only a few ms), so its peak may be missed";

/// The cells of one row: op, size, mmarray, numpy, ratio, % of limit, `RssAnon` x2, check.
fn row_cells(row: &Row) -> Vec<String> {
    let numpy = match &row.numpy {
        Ok(np) => gbs_cell(&np.samples, row.bytes),
        Err(_) => "skipped".into(),
    };
    let pct = match (row.pct_of_limit(), row.limit) {
        (Some(p), Some((kind, _))) => format!("{p:.0}% {}", limit_word(kind)),
        _ => "-".into(),
    };
    vec![
        row.label.clone(),
        format_size_compact(row.size),
        gbs_cell(&row.mmarray.samples, row.bytes),
        numpy,
        row.ratio()
            .map_or_else(|| "-".into(), |r| format!("{r:.2}x")),
        pct,
        rss_cell(&row.mmarray),
        row.numpy.as_ref().map_or_else(|_| "-".into(), rss_cell),
        row.check.clone(),
    ]
}

/// `read` or `write`.
fn limit_word(kind: Limit) -> &'static str {
    if kind == Limit::Read { "read" } else { "write" }
}

/// Column headings matching [`row_cells`].
const HEADERS: [&str; 9] = [
    "op",
    "size",
    "mmarray GB/s",
    "numpy GB/s",
    "ratio",
    "% of limit",
    "mmarray RssAnon MiB",
    "numpy RssAnon MiB",
    "check",
];

/// Prints one finished measurement on stderr.
pub(crate) fn print_progress(row: &Row) {
    let c = row_cells(row);
    let pct = match (row.pct_of_limit(), row.limit) {
        (Some(p), Some((kind, _))) => format!("{p:.0}% of the {} limit", limit_word(kind)),
        _ => "no limit".into(),
    };
    eprintln!(
        "bench:   {}: mmarray {} GB/s, numpy {} GB/s, ratio {}, {pct}, RssAnon {} / {} MiB, \
         check {}",
        c[0], c[2], c[3], c[4], c[6], c[7], c[8]
    );
}

/// A plain-text table with aligned columns.
fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (cell, w) in cells.zip(&widths) {
            let _ = write!(text, "{cell:<w$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut out, &mut headers.iter().copied());
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    line(&mut out, &mut rule.iter().map(String::as_str));
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

/// A Markdown table.
fn md_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", headers.join(" | "));
    out.push('|');
    for _ in headers {
        out.push_str(" --- |");
    }
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// One checked target.
struct Check {
    /// Operation label.
    op: String,
    /// What is required.
    target: String,
    /// What was measured.
    measured: String,
    /// Whether it was met (`None`: could not be evaluated).
    pass: Option<bool>,
}

/// The targets of issue 4 against the main rows (not the cold ones).
fn checks(results: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for row in results.rows.iter().filter(|r| r.label == r.op.name()) {
        if let Some(target) = row.op.target() {
            if let Some(min) = target.ratio {
                let ratio = row.ratio();
                out.push(Check {
                    op: row.label.clone(),
                    target: format!("mmarray/numpy >= {min}x"),
                    measured: ratio.map_or_else(|| "numpy skipped".into(), |r| format!("{r:.2}x")),
                    pass: ratio.map(|r| r >= min),
                });
            }
            if let (Some(min), Some((kind, _))) = (target.pct_of_limit, row.limit) {
                let pct = row.pct_of_limit();
                let kind = if kind == Limit::Read {
                    "mapped-read"
                } else {
                    "fill + flush"
                };
                out.push(Check {
                    op: row.label.clone(),
                    target: format!(">= {min:.0}% of the {kind} limit"),
                    measured: pct.map_or_else(|| "-".into(), |p| format!("{p:.0}%")),
                    pass: pct.map(|p| p >= min),
                });
            }
        }
        let rss = row.mmarray.mem.rss_anon_peak_kib.map(kib_to_mib);
        out.push(Check {
            op: row.label.clone(),
            target: format!("peak RssAnon < {RSS_ANON_TARGET_MIB:.0} MiB"),
            measured: rss.map_or_else(|| "not sampled".into(), |m| format!("{m:.1} MiB")),
            pass: rss.map(|m| m < RSS_ANON_TARGET_MIB),
        });
    }
    out
}

/// Cells of the target table.
fn check_cells(checks: &[Check]) -> Vec<Vec<String>> {
    checks
        .iter()
        .map(|c| {
            vec![
                c.op.clone(),
                c.target.clone(),
                c.measured.clone(),
                match c.pass {
                    Some(true) => "PASS".into(),
                    Some(false) => "MISS".into(),
                    None => "n/a".into(),
                },
            ]
        })
        .collect()
}

/// The limits as table rows: name, GB/s median [min-max].
fn limit_cells(l: &Limits) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        format!("mapped read, {} threads", l.threads),
        gbs_cell(&l.read_all, l.bytes),
    ]];
    if let Some(one) = &l.read_one {
        rows.push(vec!["mapped read, 1 thread".into(), gbs_cell(one, l.bytes)]);
    }
    if let Some(w) = &l.write {
        rows.push(vec![
            format!("fill + flush into a new file, {} threads", l.threads),
            gbs_cell(w, l.bytes),
        ]);
    }
    rows
}

/// The scaling table rows.
fn scaling_cells(results: &Results) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in &results.scaling {
        for r in &p.rows {
            let mut cells = row_cells(r);
            if p.huge {
                cells[1].push_str(" (> RAM)");
            }
            rows.push(cells);
        }
    }
    rows
}

/// The limits of each scaling size.
fn scaling_limit_cells(results: &Results) -> Vec<Vec<String>> {
    results
        .scaling
        .iter()
        .map(|p| {
            let l = &p.limits;
            vec![
                format!(
                    "{}{}",
                    format_size_compact(p.size),
                    if p.huge { " (> RAM)" } else { "" }
                ),
                gbs_cell(&l.read_all, l.bytes),
                l.write
                    .as_ref()
                    .map_or_else(|| "not measured".into(), |w| gbs_cell(w, l.bytes)),
            ]
        })
        .collect()
}

/// Load average text.
fn load_text(results: &Results) -> String {
    let f = |x: Option<f64>| x.map_or_else(|| "?".into(), |x| format!("{x:.2}"));
    format!(
        "{} at the start, {} at the end",
        f(results.load.0),
        f(results.load.1)
    )
}

/// The report printed on stdout.
pub(crate) fn text(results: &Results) -> String {
    let m = &results.machine;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nmmarray benchmarks: {} {} file ({} items), {}, {}\n\
         machine: {}, {} logical CPUs, {} RAM, Linux {}; {}; numpy {}; load average {}\n\
         timer: {}; cache: warm; cold: {}\n",
        format_size(results.main.nbytes),
        results.opts.dtype.name(),
        results.main.shape[0],
        threads_text(results),
        m.date,
        m.cpu,
        m.cpus,
        format_size(m.ram),
        m.kernel,
        m.mmarray,
        m.numpy,
        load_text(results),
        results.timer,
        results.cold,
    );
    out.push_str("machine limits (GB/s, median [slowest-fastest]):\n");
    out.push_str(&text_table(
        &["limit", "GB/s"],
        &limit_cells(&results.limits),
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = results.rows.iter().map(row_cells).collect();
    out.push_str(&text_table(&HEADERS, &rows));
    out.push_str(
        "(GB/s = 10^9 bytes of the input array per second, median [slowest-fastest]; ratio = \
         mmarray/numpy; % of limit = mmarray vs the read or fill+flush limit)\n",
    );
    if any_few_samples(results) {
        let _ = writeln!(out, "({FEW_SAMPLES_NOTE})");
    }
    if !results.scaling.is_empty() {
        out.push_str("\nscaling:\n");
        out.push_str(&text_table(&HEADERS, &scaling_cells(results)));
        out.push_str(&text_table(
            &["size", "read limit GB/s", "fill + flush limit GB/s"],
            &scaling_limit_cells(results),
        ));
    }
    out.push_str("\ntargets of issue 4");
    out.push_str(&target_conditions(results));
    out.push_str(":\n");
    out.push_str(&text_table(
        &["op", "target", "measured", "result"],
        &check_cells(&checks(results)),
    ));
    if !results.notes.is_empty() {
        out.push_str("\nnotes:\n");
        for n in &results.notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    out
}

/// Whether some `RssAnon` cell carries the `*` mark.
fn any_few_samples(results: &Results) -> bool {
    let rows = results
        .rows
        .iter()
        .chain(results.scaling.iter().flat_map(|p| &p.rows));
    rows.flat_map(|r| std::iter::once(&r.mmarray).chain(r.numpy.as_ref().ok()))
        .any(|s| s.mem.rss_anon_peak_kib.is_some() && s.mem.samples < FEW_SAMPLES)
}

/// `2 threads (mmarray default)` or `N threads (--threads N)`.
fn threads_text(results: &Results) -> String {
    match results.opts.threads {
        Some(n) => format!("{n} threads (--threads {n})"),
        None => format!("{} threads (mmarray default: one per CPU)", results.threads),
    }
}

/// A remark when the run does not match the conditions the targets were set for.
fn target_conditions(results: &Results) -> String {
    let mut diffs = Vec::new();
    if results.main.nbytes != 4 << 30 {
        diffs.push(format!(
            "this run used {}",
            format_size(results.main.nbytes)
        ));
    }
    if results.threads != 2 {
        diffs.push(format!("{} threads", results.threads));
    }
    if results.opts.dtype != super::cli::Float::F64 {
        diffs.push(results.opts.dtype.name().to_owned());
    }
    if diffs.is_empty() {
        " (set for 4 GiB float64, warm cache, 2 threads: as this run)".into()
    } else {
        format!(
            " (set for 4 GiB float64, warm cache, 2 threads; {})",
            diffs.join(", ")
        )
    }
}

/// One side as JSON.
fn side_json(side: &Side, bytes: u64) -> Json {
    let mut obj = vec![
        ("timing".to_owned(), side.samples.to_json(bytes)),
        ("memory".to_owned(), side.mem.to_json()),
    ];
    if let Some(base) = side.base_rss_anon_kib {
        obj.push((
            "interpreter_rss_anon_mib".into(),
            Json::num(kib_to_mib(base)),
        ));
    }
    Json::Obj(obj)
}

/// A row as JSON.
fn row_json(row: &Row) -> Json {
    Json::obj([
        ("op", Json::str(&row.label)),
        ("size_bytes", Json::num(row.size as f64)),
        ("bytes_counted", Json::num(row.bytes as f64)),
        ("mmarray_command", Json::str(&row.mmarray_cmd)),
        ("numpy_code", Json::str(row.op.numpy_text())),
        ("mmarray", side_json(&row.mmarray, row.bytes)),
        (
            "numpy",
            match &row.numpy {
                Ok(np) => side_json(np, row.bytes),
                Err(why) => Json::obj([("skipped", Json::str(why))]),
            },
        ),
        ("ratio", Json::opt_num(row.ratio())),
        (
            "limit",
            match row.limit {
                Some((kind, gbs)) => Json::obj([
                    (
                        "kind",
                        Json::str(if kind == Limit::Read { "read" } else { "write" }),
                    ),
                    ("gbs", Json::num(gbs)),
                ]),
                None => Json::Null,
            },
        ),
        ("pct_of_limit", Json::opt_num(row.pct_of_limit())),
        ("check", Json::str(&row.check)),
    ])
}

/// Limits as JSON.
fn limits_json(l: &Limits) -> Json {
    Json::obj([
        ("bytes", Json::num(l.bytes as f64)),
        ("threads", Json::num(l.threads as f64)),
        ("mapped_read_all_threads", l.read_all.to_json(l.bytes)),
        (
            "mapped_read_one_thread",
            l.read_one
                .as_ref()
                .map_or(Json::Null, |s| s.to_json(l.bytes)),
        ),
        (
            "fill_flush",
            l.write.as_ref().map_or(Json::Null, |s| s.to_json(l.bytes)),
        ),
    ])
}

/// The whole run as JSON.
pub(crate) fn json(results: &Results) -> Json {
    let opts = &results.opts;
    Json::obj([
        ("command", Json::str(&results.command)),
        ("machine", results.machine.to_json()),
        (
            "config",
            Json::obj([
                ("size_bytes", Json::num(results.main.nbytes as f64)),
                ("dtype", Json::str(opts.dtype.name())),
                (
                    "shape_2d",
                    Json::Arr(
                        results
                            .shape_2d
                            .iter()
                            .map(|&d| Json::num(d as f64))
                            .collect(),
                    ),
                ),
                ("threads", Json::num(results.threads as f64)),
                (
                    "threads_flag",
                    Json::opt_num(opts.threads.map(|t| t as f64)),
                ),
                ("runs", Json::num(opts.runs as f64)),
                ("timer", Json::str(&results.timer)),
                ("cache", Json::str("warm")),
                ("cold", Json::str(&results.cold)),
                ("load_average_start", Json::opt_num(results.load.0)),
                ("load_average_end", Json::opt_num(results.load.1)),
            ]),
        ),
        ("limits", limits_json(&results.limits)),
        (
            "results",
            Json::Arr(results.rows.iter().map(row_json).collect()),
        ),
        (
            "targets",
            Json::Arr(
                checks(results)
                    .into_iter()
                    .map(|c| {
                        Json::obj([
                            ("op", Json::str(c.op)),
                            ("target", Json::str(c.target)),
                            ("measured", Json::str(c.measured)),
                            ("pass", c.pass.map_or(Json::Null, Json::Bool)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "scaling",
            Json::Arr(
                results
                    .scaling
                    .iter()
                    .map(|p| {
                        Json::obj([
                            ("size_bytes", Json::num(p.size as f64)),
                            ("larger_than_ram", Json::Bool(p.huge)),
                            ("limits", limits_json(&p.limits)),
                            ("results", Json::Arr(p.rows.iter().map(row_json).collect())),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "notes",
            Json::Arr(results.notes.iter().map(Json::str).collect()),
        ),
    ])
}

/// `docs/benchmarks.md`.
#[allow(clippy::too_many_lines)]
pub(crate) fn markdown(results: &Results) -> String {
    let m = &results.machine;
    let opts = &results.opts;
    let mut md = String::new();
    md.push_str("# Benchmarks\n\n");
    let _ = writeln!(
        md,
        "<!-- Generated by `cargo xtask bench --update-docs`; do not edit by hand. -->\n\n\
         Measured with `{}` on {}: one run, mmarray and numpy on the same files, with the \
         machine's limits measured in the same run. Re-run the same command to check these \
         numbers on your machine.\n",
        results.command, m.date
    );
    md.push_str(
        "![Throughput by operation: mmarray, numpy and the machine's limit](benchmarks.svg)\n\n",
    );

    md.push_str("## Machine\n\n");
    let machine_rows = vec![
        vec!["CPU".into(), m.cpu.clone()],
        vec!["logical CPUs".into(), m.cpus.to_string()],
        vec!["RAM".into(), format_size(m.ram)],
        vec!["kernel".into(), format!("Linux {}", m.kernel)],
        vec!["rustc".into(), m.rustc.clone()],
        vec![
            "Python, numpy".into(),
            format!("{}, numpy {}", m.python, m.numpy),
        ],
        vec![
            "mmarray".into(),
            format!("{} (commit {})", m.mmarray, m.commit),
        ],
        vec!["timer".into(), results.timer.clone()],
        vec!["load average (1 min)".into(), load_text(results)],
    ];
    md.push_str(&md_table(&["", ""], &machine_rows));

    md.push_str("\n## Set-up\n\n");
    let _ = writeln!(
        md,
        "- **File**: {} of {} in a `.npy` ({} items), standard normal values written by numpy \
         (`default_rng(0)`), so that mmarray never reads only its own output. Derived by numpy \
         from it: a big-endian copy (`{}`), a float16 copy (`<f2`) and a 2-D copy of shape \
         {} for the axis sums and the slice.",
        format_size(results.main.nbytes),
        opts.dtype.name(),
        results.main.shape[0],
        opts.dtype.descr_be(),
        results
            .shape_2d
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" x ")
    );
    let _ = writeln!(
        md,
        "- **Page cache**: warm: each input is read once with `read(2)` on all threads (as `cat` \
         would; this caches it in large folios, which makes mapped passes cheaper for both \
         tools) right before each tool's runs, and each tool has one untimed warm-up run. \
         Cold: {}.",
        results.cold
    );
    let _ = writeln!(
        md,
        "- **Threads**: mmarray {}; numpy uses one thread for all of these (as numpy does).",
        threads_text(results)
    );
    let _ = writeln!(
        md,
        "- **Runs**: one warm-up, then {} timed runs per tool; tables give the median GB/s and \
         [slowest-fastest]. GB/s is 10^9 bytes of the operation's input array per second (for \
         `create` and `normal`, of the array created; for `sum_f16`, of the float16 file); the \
         ratio is mmarray/numpy throughput, i.e. numpy's time over mmarray's.",
        opts.runs
    );
    md.push_str(
        "- **mmarray** is timed as a whole process, from spawn to exit (start-up, opening, \
         mapping, the work, flush, exit), with hyperfine (`-N --warmup 1`) when installed, else \
         with an equivalent loop. Output files are deleted before each run (untimed).\n\
         - **numpy** is timed in-process: one python process per operation runs a warm-up and \
         the timed runs, each timing just the operation (including `np.load(..., \
         mmap_mode=\"r\")` or `open_memmap`) with `time.perf_counter()`. Interpreter start-up \
         and `import numpy` are not timed, which favours numpy. numpy results written with \
         `np.save` are `fsync`ed, as mmarray's and `memmap.flush()`'s are.\n\
         - **Memory**: peak `RssAnon` (anonymous memory: heap and temporaries) from polling \
         `/proc/<pid>/status` every 5 ms, during one extra run of mmarray and during the whole \
         numpy process (so it includes the interpreter with numpy imported",
    );
    if let Some(base) = results
        .rows
        .iter()
        .find_map(|r| r.numpy.as_ref().ok().and_then(|n| n.base_rss_anon_kib))
    {
        let _ = write!(md, ", {:.0} MiB here", kib_to_mib(base));
    }
    md.push_str(
        "). Peak RSS (`VmHWM`, and `ru_maxrss` from `wait4`, which is the \"Maximum resident \
         set size\" that `/usr/bin/time -v` prints) is in the JSON output; it counts the \
         file's mapped page-cache pages, so RssAnon is the number that shows temporaries.\n\
         - **Limits**, measured by xtask itself in the same run: mapped read = map the cached \
         file read-only, each thread sums the 64-bit words of its share with four accumulators; \
         fill + flush = create a new file, `posix_fallocate`, map it writable, fill it with a \
         byte pattern from all threads, `msync`. `% of limit` compares mmarray with the read \
         limit for reductions and with the fill + flush limit for operations that write a new \
         file; as GB/s counts the input, it can pass 100% for `astype` and `slice`, which \
         write half as many bytes as they read.\n",
    );

    md.push_str("\n## Machine limits\n\n");
    md.push_str(&md_table(
        &["limit", "GB/s median [slowest-fastest]"],
        &limit_cells(&results.limits),
    ));

    let _ = writeln!(
        md,
        "\n## Results ({} {})\n",
        format_size(results.main.nbytes),
        opts.dtype.name()
    );
    let rows: Vec<Vec<String>> = results.rows.iter().map(row_cells).collect();
    md.push_str(&md_table(&HEADERS, &rows));
    md.push_str(
        "\n`check` compares mmarray's printed result with numpy's (sums within a few eps per \
         item, min/max exactly); `-` where the operation writes a file.\n",
    );
    if any_few_samples(results) {
        let _ = writeln!(md, "\n{FEW_SAMPLES_NOTE}.");
    }

    md.push_str("\n### Memory\n\n");
    md.push_str(
        "Peak anonymous memory (`RssAnon`, polled) and peak resident set (`ru_maxrss`, which \
         includes the mapped file's cached pages), MiB.\n\n",
    );
    let mem_rows: Vec<Vec<String>> = results
        .rows
        .iter()
        .map(|r| {
            let rss = |s: &Side| {
                s.mem
                    .max_rss_kib
                    .map_or_else(|| "-".into(), |k| format!("{:.0}", kib_to_mib(k)))
            };
            vec![
                r.label.clone(),
                rss_cell(&r.mmarray),
                rss(&r.mmarray),
                r.numpy.as_ref().map_or_else(|_| "-".into(), rss_cell),
                r.numpy.as_ref().map_or_else(|_| "-".into(), rss),
            ]
        })
        .collect();
    md.push_str(&md_table(
        &[
            "op",
            "mmarray RssAnon",
            "mmarray peak RSS",
            "numpy RssAnon",
            "numpy peak RSS",
        ],
        &mem_rows,
    ));

    md.push_str("\n## Targets of the ops issue\n\n");
    let _ = writeln!(md, "Targets{}.\n", target_conditions(results));
    let checks = checks(results);
    let passed = checks.iter().filter(|c| c.pass == Some(true)).count();
    let missed = checks.iter().filter(|c| c.pass == Some(false)).count();
    let _ = writeln!(md, "{passed} PASS, {missed} MISS.\n");
    md.push_str(&md_table(
        &["op", "target", "measured", "result"],
        &check_cells(&checks),
    ));

    if !results.scaling.is_empty() {
        md.push_str("\n## Scaling\n\n");
        md.push_str(
            "The same measurements for a subset of operations at each size of `--sizes` (and a \
             file larger than RAM with `--huge`: streaming sum only, without warming, read from \
             disk).\n\n",
        );
        md.push_str(&md_table(&HEADERS, &scaling_cells(results)));
        md.push('\n');
        md.push_str(&md_table(
            &["size", "read limit GB/s", "fill + flush limit GB/s"],
            &scaling_limit_cells(results),
        ));
    }

    md.push_str("\n## Operations\n\n");
    let _ = writeln!(
        md,
        "`IN` is the main file, `IN_BE`/`IN_F16`/`IN_2D` its copies, `T` = `{}`, `N` its \
         length; numpy's `a` is `np.load(IN..., mmap_mode=\"r\")`, `open_memmap` is \
         `numpy.lib.format.open_memmap`. mmarray runs as `mmarray --quiet{} ...`.\n",
        opts.dtype.descr(),
        opts.threads
            .map(|t| format!(" --threads {t}"))
            .unwrap_or_default()
    );
    let op_rows: Vec<Vec<String>> = Op::ALL
        .iter()
        .filter(|op| opts.ops.contains(op))
        .map(|op| {
            vec![
                op.name().to_owned(),
                op.what().to_owned(),
                format!(
                    "`{}`",
                    op.mmarray_text().replace("float32", opts.dtype.narrower())
                ),
                format!("`{}`", op.numpy_text()),
            ]
        })
        .collect();
    md.push_str(&md_table(&["op", "what", "mmarray", "numpy"], &op_rows));

    if !results.notes.is_empty() {
        md.push_str("\n## Notes\n\n");
        for n in &results.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md.push_str("\n## Reproduce\n\n");
    let _ = writeln!(
        md,
        "```sh\ncargo xtask test   # once: creates target/interop-venv with numpy\n{}\n```\n\n\
         `cargo xtask bench --help` lists the options (`--size`, `--sizes`, `--huge`, `--ops`, \
         `--threads`, `--runs`, `--json FILE`, `--keep`, `--dir`). The kernels alone are \
         measured by the criterion benches: `cargo bench -p mmarray-benches`.",
        results.command
    );
    md
}
