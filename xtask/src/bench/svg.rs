//! `docs/benchmarks.svg`: a grouped bar chart of throughput by operation (mmarray, numpy, and
//! the `--compare` binary if any; median bars with a whisker from the slowest to the fastest
//! round) with a marker for the machine's limit, on a log scale (reductions run at tens of
//! GB/s, random fills of numpy at a fraction of one), and under each group the ratio's median
//! and [min-max] over the rounds, marked when the whole spread clears its target. Plain SVG.

use std::fmt::Write as _;

use super::Results;
use super::cli::format_size;
use super::report::{Verdict, fmt_gbs, row_verdict};

/// Bar colours: mmarray, numpy, the `--compare` binary; limit marker colour.
const MMARRAY: &str = "#2b6cb0";
const NUMPY: &str = "#ed8936";
const COMPARE: &str = "#a0aec0";
const LIMIT: &str = "#1a202c";

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart for the main rows of `results`.
#[allow(clippy::too_many_lines)]
pub(crate) fn chart(results: &Results) -> String {
    let rows = &results.rows;
    let with_compare = rows.iter().any(|r| r.compare.is_some());
    let nbars = if with_compare { 3.0 } else { 2.0 };
    let group_w = 72.0;
    let bar_w = if with_compare { 18.0 } else { 24.0 };
    let left = 78.0;
    let right = 24.0;
    let top = 92.0;
    let plot_h = 300.0;
    let bottom = 100.0;
    let width = left + right + group_w * rows.len().max(1) as f64;
    let width = width.max(860.0);
    let height = top + plot_h + bottom;

    // Log scale over all bar values and limits.
    let mut values: Vec<f64> = Vec::new();
    for r in rows {
        values.extend([
            r.mmarray.samples.gbs(r.bytes).1,
            r.mmarray.samples.gbs(r.bytes).2,
        ]);
        if let Ok(np) = &r.numpy {
            values.extend([np.samples.gbs(r.bytes).1, np.samples.gbs(r.bytes).2]);
        }
        if let Some(c) = &r.compare {
            values.extend([c.samples.gbs(r.bytes).1, c.samples.gbs(r.bytes).2]);
        }
        values.extend(r.limit.as_ref().map(super::LimitRuns::gbs));
    }
    values.retain(|v| v.is_finite() && *v > 0.0);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let (lo_exp, hi_exp) = if values.is_empty() {
        (-1, 2)
    } else {
        (
            lo.log10().floor() as i32,
            (hi.log10().ceil() as i32).max(lo.log10().floor() as i32 + 1),
        )
    };
    let y_of = |v: f64| {
        let t = (v.log10() - f64::from(lo_exp)) / f64::from(hi_exp - lo_exp);
        top + plot_h * (1.0 - t.clamp(0.0, 1.0))
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let m = &results.machine;
    let title = format!(
        "mmarray vs numpy: {} {} .npy, warm page cache",
        format_size(results.main.nbytes),
        results.opts.dtype.name()
    );
    let subtitle = format!(
        "{}, {} logical CPUs, {} RAM; numpy {}; {} threads for mmarray; {}",
        m.cpu,
        m.cpus,
        format_size(m.ram),
        m.numpy,
        results.threads,
        m.date
    );
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="24" font-size="16" font-weight="bold">{}</text>"#,
        esc(&title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="42" fill="#4a5568">{}</text>"##,
        esc(&subtitle)
    );

    // Legend.
    let ly = 64.0;
    let _ = writeln!(
        s,
        r#"<rect x="{left}" y="{}" width="14" height="14" fill="{MMARRAY}"/><text x="{}" y="{}">mmarray (whole process)</text>"#,
        ly - 11.0,
        left + 20.0,
        ly
    );
    let x2 = left + 190.0;
    let _ = writeln!(
        s,
        r#"<rect x="{x2}" y="{}" width="14" height="14" fill="{NUMPY}"/><text x="{}" y="{}">numpy (in-process)</text>"#,
        ly - 11.0,
        x2 + 20.0,
        ly
    );
    let mut x3 = x2 + 160.0;
    if with_compare {
        let _ = writeln!(
            s,
            r#"<rect x="{x3}" y="{}" width="14" height="14" fill="{COMPARE}"/><text x="{}" y="{}">--compare binary</text>"#,
            ly - 11.0,
            x3 + 20.0,
            ly
        );
        x3 += 140.0;
    }
    let _ = writeln!(
        s,
        r#"<line x1="{x3}" y1="{}" x2="{}" y2="{}" stroke="{LIMIT}" stroke-width="3"/><text x="{}" y="{ly}">machine limit (mapped read; fill + flush for writes)</text>"#,
        ly - 4.0,
        x3 + 22.0,
        ly - 4.0,
        x3 + 28.0
    );

    // Grid and axis labels: 1, 2, 5 x 10^k.
    for e in lo_exp..=hi_exp {
        for mult in [1.0, 2.0, 5.0] {
            let v = mult * 10f64.powi(e);
            if e == hi_exp && mult > 1.0 {
                continue;
            }
            let y = y_of(v);
            let major = mult == 1.0;
            let _ = writeln!(
                s,
                r#"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="1"/>"#,
                width - right,
                if major { "#cbd5e0" } else { "#edf2f7" }
            );
            let label = if v >= 1.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            };
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#4a5568">{label}</text>"##,
                left - 6.0,
                y + 4.0
            );
        }
    }
    let _ = writeln!(
        s,
        r##"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle" fill="#2d3748">GB/s (log scale)</text>"##,
        top + plot_h / 2.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#4a5568"/>"##,
        top + plot_h,
        width - right,
        top + plot_h
    );

    // Bars.
    let base_y = top + plot_h;
    for (i, r) in rows.iter().enumerate() {
        let gx = left + group_w * i as f64 + (group_w - nbars * bar_w) / 2.0;
        let nan = (f64::NAN, f64::NAN, f64::NAN);
        let mut bars = vec![
            (r.mmarray.samples.gbs(r.bytes), MMARRAY, "mmarray"),
            (
                r.numpy.as_ref().map_or(nan, |np| np.samples.gbs(r.bytes)),
                NUMPY,
                "numpy",
            ),
        ];
        if with_compare {
            bars.push((
                r.compare.as_ref().map_or(nan, |c| c.samples.gbs(r.bytes)),
                COMPARE,
                "--compare",
            ));
        }
        for (k, ((v, slow, fast), colour, who)) in bars.iter().enumerate() {
            let x = gx + bar_w * k as f64;
            if !v.is_finite() || *v <= 0.0 {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="#718096">n/a</text>"##,
                    x + bar_w / 2.0,
                    base_y - 4.0
                );
                continue;
            }
            let y = y_of(*v);
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} {who}: {} GB/s</title></rect>"#,
                bar_w - 2.0,
                (base_y - y).max(0.5),
                esc(&r.label),
                fmt_gbs(*v)
            );
            if slow.is_finite() && fast.is_finite() && fast > slow {
                let cx = x + (bar_w - 2.0) / 2.0;
                let _ = writeln!(
                    s,
                    r#"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="{LIMIT}" stroke-width="1"/>"#,
                    y_of(*fast),
                    y_of(*slow)
                );
            }
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="#2d3748">{}</text>"##,
                x + (bar_w - 2.0) / 2.0,
                y_of(fast.max(*v)) - 3.0,
                fmt_gbs(*v)
            );
        }
        if let Some(limit) = &r.limit {
            let (kind, l) = (limit.kind, limit.gbs());
            let y = y_of(l);
            let _ = writeln!(
                s,
                r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{LIMIT}" stroke-width="3"><title>{} limit: {} GB/s</title></line>"#,
                gx - 4.0,
                gx + nbars * bar_w + 2.0,
                kind.name(),
                fmt_gbs(l)
            );
        }
        let cx = left + group_w * (i as f64 + 0.5);
        let _ = writeln!(
            s,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{}</text>"#,
            base_y + 18.0,
            esc(&r.label.replace(" (cold)", "*"))
        );
        if let Some(ratio) = r.ratio() {
            let mark = match row_verdict(r) {
                Some(Verdict::Pass) => " \u{2713}",
                Some(Verdict::MedianOnly) => " ~",
                Some(Verdict::Miss) => " \u{2717}",
                None => "",
            };
            let _ = writeln!(
                s,
                r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" fill="#2d3748">{:.2}x{mark}</text>"##,
                base_y + 34.0,
                ratio.median
            );
            let _ = writeln!(
                s,
                r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="10" fill="#4a5568">[{:.2}-{:.2}]</text>"##,
                base_y + 48.0,
                ratio.min,
                ratio.max
            );
        }
    }
    let footer = [
        format!(
            "Under each operation: mmarray/numpy throughput ratio, median and [min-max] over the \
             rounds; \u{2713} every round clears the target, ~ the median does, \u{2717} it does \
             not{}.",
            if rows.iter().any(|r| r.label.ends_with("(cold)")) {
                " (* = cold page cache)"
            } else {
                ""
            }
        ),
        format!(
            "Bars: median of {}+ interleaved rounds, whiskers slowest-fastest; GB/s = 10^9 bytes \
             of the input array per second; mmarray timed as a whole process, numpy in-process.",
            results.opts.rounds
        ),
    ];
    for (k, line) in footer.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{left}" y="{:.1}" fill="#4a5568" font-size="11">{}</text>"##,
            height - 26.0 + 15.0 * k as f64,
            esc(line)
        );
    }
    s.push_str("</svg>\n");
    s
}
