//! The outputs: progress lines, the text table, the JSON document and `docs/benchmarks.md`.

use std::fmt::Write as _;

use super::cli::{format_size, format_size_compact};
use super::json::Json;
use super::ops::{Limit, Op, RSS_ANON_TARGET_MIB, Target};
use super::procs::{Mem, Samples, Spread, kib_to_mib};
use super::sysstat::Conditions;
use super::{Cache, Limits, Results, Row, Side, shape_text};

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

/// `1.63x [1.52-1.71]`: a ratio's median and [min-max] over the rounds.
pub(crate) fn ratio_text(s: Spread) -> String {
    format!("{:.2}x [{:.2}-{:.2}]", s.median, s.min, s.max)
}

/// `91% [85-97]`: a percentage's median and [min-max] over the rounds.
pub(crate) fn pct_text(s: Spread) -> String {
    format!("{:.0}% [{:.0}-{:.0}]", s.median, s.min, s.max)
}

/// How a spread stands against a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    /// Even the median is short.
    Miss,
    /// The median clears it, the worst round does not.
    MedianOnly,
    /// Every round clears it.
    Pass,
}

impl Verdict {
    /// Of `spread` against `target`.
    pub(crate) fn of(spread: Spread, target: f64) -> Verdict {
        if spread.clears(target) {
            Verdict::Pass
        } else if spread.median_clears(target) {
            Verdict::MedianOnly
        } else {
            Verdict::Miss
        }
    }

    /// `PASS`, `MEDIAN ONLY` or `MISS`.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::MedianOnly => "MEDIAN ONLY",
            Verdict::Miss => "MISS",
        }
    }
}

/// The row's target: its operation's, or for a cold-cache row issue 15's "an uncached sum at
/// least as fast as numpy's".
fn row_target(row: &Row) -> Option<Target> {
    if row.cache.mode == Cache::Cold {
        return Some(Target {
            ratio: Some(1.0),
            pct_of_limit: None,
            either: false,
        });
    }
    row.op.target()
}

/// The row's target in words (`1.5x numpy and 85% of read`), if it has one.
fn target_text(row: &Row) -> Option<String> {
    let t = row_target(row)?;
    let mut parts = Vec::new();
    if let Some(r) = t.ratio {
        parts.push(format!("{r}x numpy"));
    }
    if let (Some(p), Some(l)) = (t.pct_of_limit, &row.limit) {
        parts.push(format!("{p:.0}% of {}", l.kind.word()));
    }
    Some(parts.join(if t.either { " or " } else { " and " }))
}

/// The row's verdict on its whole target (both parts, or the better one for `either`
/// targets); `None` without a target or without the numbers.
pub(crate) fn row_verdict(row: &Row) -> Option<Verdict> {
    let t = row_target(row)?;
    let mut vs = Vec::new();
    if let Some(r) = t.ratio {
        vs.push(row.ratio().map(|s| Verdict::of(s, r)));
    }
    if let (Some(p), Some(_)) = (t.pct_of_limit, &row.limit) {
        vs.push(row.pct_of_limit().map(|s| Verdict::of(s, p)));
    }
    if t.either {
        vs.into_iter().flatten().max()
    } else {
        vs.into_iter()
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
    }
}

/// `yes`, `median only`, `no` or `-`.
fn clears_word(row: &Row) -> String {
    match row_verdict(row) {
        Some(Verdict::Pass) => "yes".into(),
        Some(Verdict::MedianOnly) => "median only".into(),
        Some(Verdict::Miss) => "no".into(),
        None => "-".into(),
    }
}

/// The cells of one row (see [`HEADERS`]).
fn row_cells(row: &Row) -> Vec<String> {
    let numpy = match &row.numpy {
        Ok(np) => gbs_cell(&np.samples, row.bytes),
        Err(_) => "skipped".into(),
    };
    let pct = match (row.pct_of_limit(), &row.limit) {
        (Some(p), Some(l)) => format!("{} {}", pct_text(p), l.kind.word()),
        _ => "-".into(),
    };
    vec![
        row.label.clone(),
        shape_text(&row.shape),
        row.mmarray.samples.times.len().to_string(),
        gbs_cell(&row.mmarray.samples, row.bytes),
        numpy,
        row.ratio().map_or_else(|| "-".into(), ratio_text),
        target_text(row).unwrap_or_else(|| "-".into()),
        clears_word(row),
        pct,
        row.check.clone(),
    ]
}

/// Column headings matching [`row_cells`].
const HEADERS: [&str; 10] = [
    "op",
    "shape",
    "rounds",
    "mmarray GB/s",
    "numpy GB/s",
    "ratio median [min-max]",
    "target",
    "whole spread clears",
    "% of limit median [min-max]",
    "check",
];

/// What the page cache held: `100% (read(2) once)`, `cold`, `-`.
fn cache_cell(row: &Row) -> String {
    match row.cache.mode {
        Cache::Cold => "dropped before every run".into(),
        Cache::Streaming => "larger than RAM, not warmed".into(),
        Cache::Warm => match row.cache.resident_min {
            None => "- (no input)".into(),
            Some(r) => {
                let again = match row.cache.rewarmed {
                    0 => String::new(),
                    1 => ", read again once".into(),
                    n => format!(", read again {n} times"),
                };
                format!("{:.1}% at worst{again}", r * 100.0)
            }
        },
    }
}

/// The conditions of one row: op, rounds, page cache, load, steal, busy CPUs.
fn conditions_cells(row: &Row) -> Vec<String> {
    let c = &row.conditions;
    vec![
        row.label.clone(),
        row.mmarray.samples.times.len().to_string(),
        cache_cell(row),
        c.load
            .map_or_else(|| "?".into(), |(lo, hi)| format!("{lo:.2}-{hi:.2}")),
        c.steal_pct
            .map_or_else(|| "?".into(), |s| format!("{s:.1}%")),
        c.busy_cpus
            .map_or_else(|| "?".into(), |b| format!("{b:.2}")),
    ]
}

/// Headings of [`conditions_cells`].
const CONDITION_HEADERS: [&str; 6] = [
    "op",
    "rounds",
    "input in the page cache before a run",
    "load average (1 min)",
    "CPU steal",
    "busy CPUs",
];

/// The before/after cells of one row with a `--compare` side.
fn compare_cells(row: &Row) -> Option<Vec<String>> {
    let cmp = row.compare.as_ref()?;
    let vs_numpy = row
        .numpy
        .as_ref()
        .ok()
        .and_then(|np| np.samples.ratio_over(&cmp.samples));
    Some(vec![
        row.label.clone(),
        gbs_cell(&row.mmarray.samples, row.bytes),
        gbs_cell(&cmp.samples, row.bytes),
        row.compare_ratio().map_or_else(|| "-".into(), ratio_text),
        row.ratio().map_or_else(|| "-".into(), ratio_text),
        vs_numpy.map_or_else(|| "-".into(), ratio_text),
    ])
}

/// Headings of [`compare_cells`].
const COMPARE_HEADERS: [&str; 6] = [
    "op",
    "this build GB/s",
    "--compare GB/s",
    "this / --compare",
    "this build / numpy",
    "--compare / numpy",
];

/// Prints one finished measurement on stderr.
pub(crate) fn print_progress(row: &Row) {
    let c = row_cells(row);
    let cmp = row
        .compare_ratio()
        .map(|r| format!(", vs --compare {}", ratio_text(r)))
        .unwrap_or_default();
    eprintln!(
        "bench:   {} ({} rounds): mmarray {} GB/s, numpy {} GB/s, ratio {}{cmp}, target {} \
         (whole spread clears: {}), {} of the limit, check {}",
        c[0], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]
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
pub(crate) struct Check {
    /// Operation label.
    pub(crate) op: String,
    /// What is required.
    pub(crate) target: String,
    /// What was measured.
    pub(crate) measured: String,
    /// How it stands (`None`: could not be evaluated).
    pub(crate) verdict: Option<Verdict>,
}

/// The targets against the main rows: each part of each target on its own, judged on the whole
/// spread over the rounds.
fn checks(results: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for row in &results.rows {
        if let Some(target) = row_target(row) {
            let or = if target.either {
                " (or the next line)"
            } else {
                ""
            };
            if let Some(min) = target.ratio {
                let ratio = row.ratio();
                out.push(Check {
                    op: row.label.clone(),
                    target: format!("mmarray/numpy >= {min}x{or}"),
                    measured: ratio.map_or_else(|| "numpy skipped".into(), ratio_text),
                    verdict: ratio.map(|r| Verdict::of(r, min)),
                });
            }
            if let (Some(min), Some(l)) = (target.pct_of_limit, &row.limit) {
                let pct = row.pct_of_limit();
                let kind = l.kind.name();
                out.push(Check {
                    op: row.label.clone(),
                    target: format!(">= {min:.0}% of the {kind} limit"),
                    measured: pct.map_or_else(|| "-".into(), pct_text),
                    verdict: pct.map(|p| Verdict::of(p, min)),
                });
            }
        }
        out.push(rss_check(
            row.label.clone(),
            &row.mmarray.mem,
            RSS_ANON_TARGET_MIB,
            "",
        ));
    }
    out
}

/// The peak-`RssAnon` check of `op`: under `max` MiB (`why` says where that comes from).
pub(crate) fn rss_check(op: String, mem: &Mem, max: f64, why: &str) -> Check {
    let rss = mem.rss_anon_peak_kib.map(kib_to_mib);
    Check {
        op,
        target: format!("peak RssAnon < {max:.0} MiB{why}"),
        measured: rss.map_or_else(|| "not sampled".into(), |m| format!("{m:.1} MiB")),
        verdict: rss.map(|m| {
            if m < max {
                Verdict::Pass
            } else {
                Verdict::Miss
            }
        }),
    }
}

/// A note when `row`'s target ratio over numpy is above what this machine allows: the
/// limit itself, timed in the same rounds, is not that much faster than numpy (issue 15: "show
/// it with the limit measured in the same run, and say what would have to change").
pub(crate) fn above_machine(row: &Row) -> Option<String> {
    let target = row_target(row)?;
    let min = target.ratio.filter(|_| !target.either)?;
    // A target that every round cleared needs no excuse, whatever the limit measured.
    if row.ratio().is_some_and(|r| r.min >= min) {
        return None;
    }
    let l = row.limit.as_ref()?;
    let np = row.numpy.as_ref().ok()?;
    // (l.bytes / t_limit) / (bytes / t_numpy), round by round.
    let ceiling = np
        .samples
        .ratio_over(&l.samples)?
        .scale(l.bytes as f64 / row.bytes.max(1) as f64);
    ceiling_note(&row.label, min, l.kind, ceiling, row.pct_of_limit())
}

/// How far a target ratio `min` is above what the machine allows, from `ceiling`: the limit's
/// speed over the contender's, round by round. `None` when the limit reached the target in
/// every round.
pub(crate) fn ceiling_words(ceiling: Spread, min: f64) -> Option<&'static str> {
    if ceiling.max < min {
        Some("is above what this machine allows")
    } else if ceiling.median < min {
        Some("is above what this machine allows in most rounds")
    } else if ceiling.min < min {
        Some(
            "was above what this machine allowed in its slowest rounds (so no whole spread \
             could clear it)",
        )
    } else {
        None
    }
}

/// [`above_machine`]'s text, when the `ceiling` (the limit's speed over numpy's) fell short
/// of `min` in some round (see [`ceiling_words`]) and mmarray did not beat the limit in every
/// round (`pct`, its percent of the limit).
fn ceiling_note(
    label: &str,
    min: f64,
    kind: Limit,
    ceiling: Spread,
    pct: Option<Spread>,
) -> Option<String> {
    // A limit that mmarray beat in every round is no ceiling of this row (an `astype`
    // writes half what it reads, against a write limit of the input's size).
    if pct.is_some_and(|p| p.min > 100.0) {
        return None;
    }
    let words = ceiling_words(ceiling, min)?;
    let at = pct.map_or_else(String::new, |p| {
        format!(", and mmarray runs at {} of it", pct_text(p))
    });
    let change = if kind == Limit::Disk {
        "a faster disk, not other code: every byte of a cold pass comes from it"
    } else {
        "more memory bandwidth for one process relative to numpy's one thread (more cores or \
         memory channels), not a faster kernel"
    };
    Some(format!(
        "{label}: the target {min}x numpy {words}: the {} limit itself, timed in the same \
         rounds, is only {} numpy's speed{at}. Meeting it would need {change}.",
        kind.word(),
        ratio_text(ceiling)
    ))
}

/// Cells of the target table.
pub(crate) fn check_cells(checks: &[Check]) -> Vec<Vec<String>> {
    checks
        .iter()
        .map(|c| {
            vec![
                c.op.clone(),
                c.target.clone(),
                c.measured.clone(),
                c.verdict.map_or("n/a", Verdict::word).into(),
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

/// Load and steal over the whole run, in words.
fn load_text(results: &Results) -> String {
    let c = &results.conditions;
    format!(
        "load average (1 min) {}, CPU steal {}, busy CPUs {} (this run's own work included)",
        c.load
            .map_or_else(|| "?".into(), |(lo, hi)| format!("{lo:.2}-{hi:.2}")),
        c.steal_pct
            .map_or_else(|| "?".into(), |s| format!("{s:.1}%")),
        c.busy_cpus.map_or_else(
            || "?".into(),
            |b| format!("{b:.2} of {}", results.machine.cpus)
        ),
    )
}

/// The `--compare` table's rows (empty without `--compare`).
fn compare_rows(results: &Results) -> Vec<Vec<String>> {
    results.rows.iter().filter_map(compare_cells).collect()
}

/// The report printed on stdout.
pub(crate) fn text(results: &Results) -> String {
    let m = &results.machine;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nmmarray benchmarks: {} {} file ({} items), {}, {}\n\
         machine: {}, {} logical CPUs, {} RAM, Linux {}; {}; numpy {}\n\
         during the run: {}\n\
         rounds: numpy, mmarray{}, limit interleaved; at least {}, at most {}; cold: {}\n",
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
        if results.compare.is_some() {
            ", --compare"
        } else {
            ""
        },
        results.opts.rounds,
        results.opts.max_rounds,
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
         mmarray/numpy, round by round, median [min-max]; % of limit = mmarray vs the read or \
         fill+flush limit timed in the same rounds)\n",
    );
    if any_few_samples(results) {
        let _ = writeln!(out, "({FEW_SAMPLES_NOTE})");
    }
    out.push_str("\nconditions:\n");
    let cond: Vec<Vec<String>> = results.rows.iter().map(conditions_cells).collect();
    out.push_str(&text_table(&CONDITION_HEADERS, &cond));
    if let Some(label) = &results.compare {
        let _ = writeln!(
            out,
            "\nbefore/after: this build ({}, commit {}) against --compare {label}:",
            results.machine.mmarray, results.machine.commit
        );
        out.push_str(&text_table(&COMPARE_HEADERS, &compare_rows(results)));
    }
    if !results.scaling.is_empty() {
        out.push_str("\nscaling:\n");
        out.push_str(&text_table(&HEADERS, &scaling_cells(results)));
        out.push_str(&text_table(
            &["size", "read limit GB/s", "fill + flush limit GB/s"],
            &scaling_limit_cells(results),
        ));
    }
    out.push_str("\ntargets (whole spread: PASS when every round clears it)");
    out.push_str(&target_conditions(results));
    out.push_str(":\n");
    out.push_str(&text_table(
        &["op", "target", "measured", "result"],
        &check_cells(&checks(results)),
    ));
    out.push_str(&super::python::text(&results.python, text_table));
    out.push_str(&super::zarr::text(&results.zarr, &text_table));
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
        (
            "compare",
            row.compare
                .as_ref()
                .map_or(Json::Null, |c| side_json(c, row.bytes)),
        ),
        ("ratio", spread_json(row.ratio())),
        ("compare_ratio", spread_json(row.compare_ratio())),
        (
            "limit",
            match &row.limit {
                Some(l) => Json::obj([
                    ("kind", Json::str(l.kind.word())),
                    ("bytes", Json::num(l.bytes as f64)),
                    ("timing", l.samples.to_json(l.bytes)),
                ]),
                None => Json::Null,
            },
        ),
        ("pct_of_limit", spread_json(row.pct_of_limit())),
        ("target", Json::opt_str(target_text(row))),
        (
            "whole_spread_clears",
            Json::opt_str(row_verdict(row).map(Verdict::word)),
        ),
        ("check", Json::str(&row.check)),
        (
            "page_cache",
            Json::obj([
                ("state", Json::str(cache_cell(row))),
                ("resident_min", Json::opt_num(row.cache.resident_min)),
                ("read_again", Json::num(f64::from(row.cache.rewarmed))),
            ]),
        ),
        ("conditions", conditions_json(&row.conditions)),
    ])
}

/// A spread as JSON, or `null`.
fn spread_json(s: Option<Spread>) -> Json {
    s.map_or(Json::Null, Spread::to_json)
}

/// Load and steal as JSON.
fn conditions_json(c: &Conditions) -> Json {
    Json::obj([
        ("load_average_min", Json::opt_num(c.load.map(|l| l.0))),
        ("load_average_max", Json::opt_num(c.load.map(|l| l.1))),
        ("steal_pct", Json::opt_num(c.steal_pct)),
        ("busy_cpus", Json::opt_num(c.busy_cpus)),
    ])
}

/// A shape as JSON.
fn shape_json(shape: &[u64]) -> Json {
    Json::Arr(shape.iter().map(|&d| Json::num(d as f64)).collect())
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
                    "shapes_2d",
                    Json::obj([
                        ("wide", shape_json(&results.shapes_2d.wide)),
                        ("tall", shape_json(&results.shapes_2d.tall)),
                        ("square", shape_json(&results.shapes_2d.square)),
                    ]),
                ),
                ("threads", Json::num(results.threads as f64)),
                (
                    "threads_flag",
                    Json::opt_num(opts.threads.map(|t| t as f64)),
                ),
                ("rounds", Json::num(opts.rounds as f64)),
                ("max_rounds", Json::num(opts.max_rounds as f64)),
                (
                    "compare",
                    Json::opt_str(opts.compare.as_ref().map(|p| p.display().to_string())),
                ),
                ("compare_binary", Json::opt_str(results.compare.clone())),
                ("cache", Json::str("warm")),
                ("cold", Json::str(&results.cold)),
                ("conditions", conditions_json(&results.conditions)),
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
                            ("result", Json::opt_str(c.verdict.map(Verdict::word))),
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
        ("python", super::python::json(&results.python)),
        ("zarr", super::zarr::json(&results.zarr)),
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
         Measured with `{}` on {}: one run, mmarray and numpy on the same files, interleaved \
         round by round with the machine's limit{}, so that every ratio is a median over rounds \
         with its [min-max]. Re-run the same command to check these numbers on your machine.\n",
        results.command,
        m.date,
        if results.compare.is_some() {
            " and a second mmarray build (`--compare`)"
        } else {
            ""
        }
    );
    md.push_str(
        "![Throughput by operation: mmarray, numpy and the machine's limit](benchmarks.svg)\n\n",
    );

    md.push_str("## Machine\n\n");
    let mut machine_rows = vec![
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
    ];
    if let Some(v) = &results.compare {
        machine_rows.push(vec!["`--compare` binary".into(), v.clone()]);
    }
    machine_rows.push(vec!["during the run".into(), load_text(results)]);
    md.push_str(&md_table(&["", ""], &machine_rows));

    md.push_str("\n## Set-up\n\n");
    let sh = &results.shapes_2d;
    let _ = writeln!(
        md,
        "- **Files**: {} of {} in a `.npy` ({} items), standard normal values written by numpy \
         (`default_rng(0)`), so that mmarray never reads only its own output. Derived by numpy \
         from it: a big-endian copy (`{}`), a float16 copy (`<f2`), and three 2-D copies for \
         the axis sums: wide {} (also the slice's input), tall {} and square {}.",
        format_size(results.main.nbytes),
        opts.dtype.name(),
        results.main.shape[0],
        opts.dtype.descr_be(),
        shape_text(&sh.wide),
        shape_text(&sh.tall),
        shape_text(&sh.square),
    );
    let _ = writeln!(
        md,
        "- **Rounds**: per operation, the contenders run interleaved: numpy, mmarray{}, the \
         limit; the order changes from round to round (a Williams design) so that each \
         contender runs in every slot, and right after every other contender, equally often \
         over a cycle of rounds. A first round is an untimed warm-up; then at least {} timed \
         rounds, and more (up to {}) while the last round still widened the spread of a ratio. \
         A ratio is computed within each round (numpy's time over mmarray's, the limit's over \
         mmarray's) and given as median [min-max] over the rounds; a load burst from elsewhere \
         slows the contenders of one round alike instead of all the runs of one of them. GB/s \
         columns give the median and [slowest-fastest] run; GB/s is 10^9 bytes of the \
         operation's input array per second (for `create` and `normal`, of the array created; \
         for `sum_f16`, of the float16 file).",
        if results.compare.is_some() {
            ", the `--compare` binary"
        } else {
            ""
        },
        opts.rounds,
        opts.max_rounds
    );
    let _ = writeln!(
        md,
        "- **Page cache**: warm and controlled: each input is read once with `read(2)` on all \
         threads (as `cat` would; this caches it in large folios, which makes mapped passes \
         cheaper for both tools) before its first round; before every run of every contender \
         `mincore` checks how much of it is resident, and it is read again the same way if \
         less than 99.9% is (the conditions table says how much was, at worst, and how often \
         it was read again). Outputs are deleted before every run (untimed). Cold: {}.",
        results.cold
    );
    let _ = writeln!(
        md,
        "- **Threads**: mmarray {}; numpy uses one thread for all of these (as numpy does).",
        threads_text(results)
    );
    md.push_str(
        "- **mmarray** is timed as a whole process, from spawn to exit (start-up, opening, \
         mapping, the work, flush, exit).\n\
         - **numpy** is timed in-process: one python process per operation, which runs one \
         timed run when asked to (so that its runs interleave with the others'), each timing \
         just the operation (including `np.load(..., mmap_mode=\"r\")` or `open_memmap`) with \
         `time.perf_counter()`. Interpreter start-up and `import numpy` are not timed, which \
         favours numpy. numpy results written with `np.save` are `fsync`ed, as mmarray's and \
         `memmap.flush()`'s are.\n\
         - **Limit** of an operation, timed in its rounds by xtask itself: for reductions, a \
         mapped read of the same input file (map it read-only, each thread sums the 64-bit \
         words of its share with four accumulators); for operations that write a new file, a \
         fill + flush of a new file of the main file's size (create, `posix_fallocate`, \
         then all threads take 1 MiB pieces front to back, fill their buffer with a byte \
         pattern and `pwrite` it, the write-back of every 32 MiB being started once all \
         threads are past it; `fsync`: the fastest way found to write a new file here, and \
         mmarray's own for whole-array fills); for the cold sum, the disk: `pread` of the input on \
         all threads, each one contiguous part of it front to back in 1 MiB pieces, after \
         `POSIX_FADV_SEQUENTIAL`, with the page cache dropped before it as before every run. As GB/s counts the \
         input, `% of limit` can pass 100% for `astype` and `slice`, which write less than \
         they read.\n\
         - **Load and steal**: the 1-minute load average is sampled every round, CPU steal \
         and busy CPUs (all processes') come from `/proc/stat` over each operation's rounds.\n\
         - **Memory**: peak `RssAnon` (anonymous memory: heap and temporaries) from polling \
         `/proc/<pid>/status` every 5 ms, during mmarray's warm-up run and during all of \
         numpy's runs (so it includes the interpreter with numpy imported",
    );
    if let Some(base) = results
        .rows
        .iter()
        .find_map(|r| r.numpy.as_ref().ok().and_then(|n| n.base_rss_anon_kib))
    {
        let _ = write!(md, ", {:.0} MiB here", kib_to_mib(base));
    }
    md.push_str(
        "). Peak RSS (`ru_maxrss` from `wait4`, the \"Maximum resident set size\" of \
         `/usr/bin/time -v`) counts the file's mapped page-cache pages, so RssAnon is the \
         number that shows temporaries.\n",
    );

    md.push_str("\n## Machine limits\n\n");
    md.push_str(
        "Measured once before the operations (the limits used for `% of limit` are timed \
         within each operation's rounds).\n\n",
    );
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
        "\n`whole spread clears`: `yes` when every round's ratio (and % of limit) clears the \
         target, `median only` when the median does but some round does not, `no` otherwise; \
         for `normal` either part of its target is enough. `check` compares mmarray's printed \
         result with numpy's (sums within a few eps per item, min/max exactly); `-` where the \
         operation writes a file.\n",
    );
    if any_few_samples(results) {
        let _ = writeln!(md, "\n{FEW_SAMPLES_NOTE}.");
    }

    md.push_str("\n### Conditions\n\n");
    let cond: Vec<Vec<String>> = results.rows.iter().map(conditions_cells).collect();
    md.push_str(&md_table(&CONDITION_HEADERS, &cond));

    if let Some(label) = &results.compare {
        md.push_str("\n## Before and after (`--compare`)\n\n");
        let _ = writeln!(
            md,
            "This build ({}, commit {}) against `{label}`, both timed in the same rounds \
             (`this / --compare` is the second's time over the first's, round by round).\n",
            m.mmarray, m.commit
        );
        md.push_str(&md_table(&COMPARE_HEADERS, &compare_rows(results)));
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

    md.push_str("\n## Targets\n\n");
    let _ = writeln!(
        md,
        "Targets{}: issue 4's, with issue 15's additions. Each part is judged on the whole \
         spread: PASS when every round clears it, MEDIAN ONLY when the median does.\n",
        target_conditions(results)
    );
    let checks = checks(results);
    let count = |v: Verdict| checks.iter().filter(|c| c.verdict == Some(v)).count();
    let _ = writeln!(
        md,
        "{} PASS, {} MEDIAN ONLY, {} MISS.\n",
        count(Verdict::Pass),
        count(Verdict::MedianOnly),
        count(Verdict::Miss)
    );
    md.push_str(&md_table(
        &["op", "target", "measured median [min-max]", "result"],
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

    md.push_str(&super::python::markdown(&results.python, md_table));
    md.push_str(&super::zarr::markdown(&results.zarr, &md_table));

    md.push_str("\n## Operations\n\n");
    let _ = writeln!(
        md,
        "`IN` is the main file, `IN_BE`/`IN_F16`/`IN_WIDE`/`IN_TALL`/`IN_SQUARE` its copies, \
         `T` = `{}`, `N` its length; numpy's `a` is `np.load(IN..., mmap_mode=\"r\")`, \
         `open_memmap` is `numpy.lib.format.open_memmap`. mmarray runs as \
         `mmarray --quiet{} ...`.\n",
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
         `--threads`, `--rounds`, `--max-rounds`, `--compare BIN`, `--json FILE`, `--keep`, \
         `--dir`). To compare with an older commit, build it in a worktree \
         (`cargo build --release -p mmarray-cli`) and pass its `target/release/mmarray` to \
         `--compare`. The kernels alone are measured by the criterion benches: \
         `cargo bench -p mmarray-benches`.",
        results.command
    );
    md
}

#[cfg(test)]
mod tests {
    use super::{Limit, Spread, ceiling_note};

    #[test]
    fn a_target_above_the_limit_gets_a_note_that_says_so() {
        let spread = |min, median, max| Spread { min, median, max };
        let pct = Some(spread(92.0, 94.0, 98.0));
        let note = ceiling_note("min", 1.5, Limit::Read, spread(1.38, 1.41, 1.45), pct).unwrap();
        assert!(
            note.starts_with("min: the target 1.5x numpy is above what this machine allows"),
            "{note}"
        );
        assert!(
            note.contains("read limit") && note.contains("1.41x") && note.contains("94%"),
            "{note}"
        );
        // A limit that reaches the target in some rounds but not at its median: above the
        // machine in most rounds.
        let note = ceiling_note("max", 1.5, Limit::Read, spread(1.38, 1.45, 1.52), pct).unwrap();
        assert!(
            note.starts_with(
                "max: the target 1.5x numpy is above what this machine allows in most rounds"
            ),
            "{note}"
        );
        // At its median but not in its slowest round: no whole spread could clear it.
        let note = ceiling_note("sum", 1.5, Limit::Read, spread(1.38, 1.55, 1.7), pct).unwrap();
        assert!(note.contains("in its slowest rounds"), "{note}");
        // A limit that reaches the target in every round: no note.
        assert!(ceiling_note("min", 1.5, Limit::Read, spread(1.5, 1.6, 1.7), pct).is_none());
        // mmarray faster than the limit in every round (astype writes half what it
        // reads): that limit is no ceiling of the row, so it shows nothing.
        let above = Some(spread(263.0, 284.0, 292.0));
        assert!(
            ceiling_note("astype", 1.1, Limit::Write, spread(0.29, 0.45, 0.9), above).is_none()
        );
        // A cold row's limit is the disk, and what would change is the disk.
        let note =
            ceiling_note("sum (cold)", 1.0, Limit::Disk, spread(0.8, 0.9, 0.95), pct).unwrap();
        assert!(
            note.contains("disk read limit") && note.contains("a faster disk"),
            "{note}"
        );
    }
}
