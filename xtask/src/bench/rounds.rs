//! One operation measured by interleaved rounds: in every round each contender runs once
//! (numpy, mmarray, the `--compare` binary, the machine's limit), so that a burst of load from
//! elsewhere on the machine hits the contenders of a round alike instead of all the runs of one
//! of them. The order changes from round to round ([`round_order`], a Williams design): a
//! fixed order gave the run after numpy's a lasting handicap for operations that write (the
//! same binary timed as mmarray and as `--compare` came out 0.63x [0.44-0.89] on `slice` at
//! 4 GiB), and plain rotation keeps who follows whom (0.73x [0.64-1.01]); here each
//! contender runs in every slot and right after every other contender equally often. The
//! first round is a warm-up (mmarray's run of it polled for memory); timed rounds follow
//! until `--rounds` of them are done and the last one no longer widened the spread of any
//! ratio, or `--max-rounds` are done.

use std::ffi::OsString;
use std::process::Command;

use super::cli::{Float, format_size};
use super::json::Json;
use super::limits;
use super::numpy::Job;
use super::ops::{Limit, Op};
use super::procs::{self, Mem, Samples, Wait};
use super::sysstat::{self, Conditions};
use super::workdir;
use super::{
    ArrayFile, Cache, CacheState, Ctx, LimitRuns, Row, Side, cross_check, mmarray_args, step,
};

/// The contenders of round `round` (0 for the warm-up, which keeps `order`), from a
/// Williams design: over a cycle of `n` rounds (`2n` for an odd number `n` of contenders),
/// each contender runs once in every slot per `n` rounds and runs right after each other
/// contender equally often, so that neither the slot nor what ran just before (a file just
/// written and deleted, memory just freed) favours one of them.
pub(crate) fn round_order<T: Copy>(order: &[T], round: usize) -> Vec<T> {
    let n = order.len();
    if n == 0 {
        return Vec::new();
    }
    // The first row: 0, 1, n-1, 2, n-2, ...; row r adds r to every entry (mod n); for odd n
    // the reversed rows follow.
    let first: Vec<usize> = (0..n)
        .map(|j| {
            if j % 2 == 1 {
                j.div_ceil(2)
            } else {
                (n - j / 2) % n
            }
        })
        .collect();
    let cycle = if n.is_multiple_of(2) { n } else { 2 * n };
    let r = round % cycle;
    let mut row: Vec<usize> = first.iter().map(|&i| (i + r % n) % n).collect();
    if r >= n {
        row.reverse();
    }
    // Labels renamed so that row 0 is `order` itself (the design stays balanced).
    let mut name = vec![0; n];
    for (j, &i) in first.iter().enumerate() {
        name[i] = j;
    }
    row.into_iter().map(|i| order[name[i]]).collect()
}

/// Below this resident fraction a warm input is read again before the next run.
pub(crate) const REWARM_BELOW: f64 = 0.999;

/// The contenders, in their order within a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// numpy, in its own process, timing just the operation.
    Numpy,
    /// This build's mmarray, timed as a whole process.
    Mmarray,
    /// The `--compare` binary, timed as a whole process.
    Compare,
    /// The machine's limit for the operation, measured by this process.
    Limit,
}

/// Whether the last value of `series` lies outside the range of the ones before it (so that
/// one more round could still move the spread); `false` with fewer than two values.
pub(crate) fn widened(series: &[f64]) -> bool {
    let Some((&last, before)) = series.split_last() else {
        return false;
    };
    if before.is_empty() {
        return false;
    }
    let lo = before.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = before.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    last < lo || last > hi
}

/// Element-wise `a[i] / b[i]`.
fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// Runs mmarray (or the `--compare` binary) once; returns its wall time, its memory (when
/// polled) and its stdout parsed as JSON (for the cross-check).
fn run_mmarray(
    program: &std::path::Path,
    args: &[OsString],
    wait: Wait,
) -> Result<(f64, Mem, Option<Json>), String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let done = procs::run(&mut cmd, wait)?;
    Ok((
        done.elapsed.as_secs_f64(),
        done.mem,
        Json::parse(done.stdout.trim()).ok(),
    ))
}

/// Measures `op` on `input` (or creating an array of the main file's size) by interleaved
/// rounds.
#[allow(clippy::too_many_lines)] // one loop over rounds and contenders, read top to bottom
pub(crate) fn measure_op(
    ctx: &Ctx<'_>,
    op: Op,
    main: &ArrayFile,
    input: Option<&ArrayFile>,
    cache: Cache,
    notes: &mut Vec<String>,
) -> Result<Row, String> {
    let opts = ctx.opts;
    let cold = cache == Cache::Cold;
    let warm = cache == Cache::Warm;
    let out = op.output().map(|name| ctx.dir.path().join(name));
    let bytes = input.map_or(main.nbytes, |f| f.nbytes);
    let shape = input.map_or_else(|| main.shape.clone(), |f| f.shape.clone());
    let size_label = format_size(main.nbytes);
    step(&format!(
        "{} ({size_label}){}",
        op.name(),
        if cold { ", cold" } else { "" }
    ));

    let mut args: Vec<OsString> = vec!["--quiet".into()];
    if let Some(t) = opts.threads {
        args.push("--threads".into());
        args.push(t.to_string().into());
    }
    args.extend(mmarray_args(op, opts.dtype, main, input, out.as_deref()));
    let mmarray_cmd = {
        let mut cmd = Command::new(&ctx.mmarray);
        cmd.args(&args);
        procs::display(&cmd)
    };

    // numpy, unless it would need more memory than there is.
    let available = workdir::meminfo("MemAvailable").unwrap_or(u64::MAX);
    let mut numpy = if op.numpy_full_temporary() && bytes as f64 > 0.8 * available as f64 {
        let why = format!(
            "numpy skipped for {} at {size_label}: np.{} makes a full-size temporary ({}) and \
             only {} of memory is available",
            op.name(),
            if op == Op::Normal {
                "random...standard_normal"
            } else {
                "std"
            },
            format_size(bytes),
            format_size(available)
        );
        notes.push(format!("{why}."));
        Err(why)
    } else {
        let job = Job {
            op: op.name(),
            input: input.map(|f| f.path.as_path()),
            output: out.as_deref(),
            descr: input.map_or(opts.dtype.descr(), |f| f.descr.as_str()),
            out_descr: if opts.dtype == Float::F64 {
                "<f4"
            } else {
                "<f2"
            },
            shape: &shape,
        };
        Ok(ctx.numpy.serve(&job)?)
    };

    // The limit: a mapped read of the same input, or a fill + flush of a new file of the main
    // file's size; for cold rows, the disk's sequential read of the input.
    let limit_kind = if cold { Limit::Disk } else { op.limit() };
    let limit_bytes = match (limit_kind, input) {
        (Limit::Read | Limit::Disk, Some(f)) => std::fs::metadata(&f.path)
            .map_err(|e| format!("could not stat {}: {e}", f.path.display()))?
            .len(),
        _ => main.nbytes,
    };
    let pool = limits::pool(ctx.threads)?;
    let limit_out = ctx.dir.path().join("limit-write.bin");

    let mut order = vec![Who::Numpy, Who::Mmarray];
    if ctx.compare.is_some() {
        order.push(Who::Compare);
    }
    order.push(Who::Limit);

    if let Some(f) = input.filter(|_| warm) {
        limits::warm(&f.path, ctx.threads)?;
    }
    let mut state = CacheState {
        mode: cache,
        resident_min: None,
        rewarmed: 0,
    };
    let mut conditions = Conditions::start();
    let mut times: [Vec<f64>; 4] = Default::default();
    let mut mm_mem = Mem::default();
    let (mut mm_value, mut cmp_value, mut np_value) = (None, None, None);
    let mut round = 0usize;
    loop {
        let timed = round > 0;
        for who in round_order(&order, round) {
            workdir::check_interrupted()?;
            if who == Who::Numpy && numpy.is_err() {
                continue;
            }
            // Untimed preparation: no output left over, the input as the cache mode says.
            if let Some(out) = &out {
                procs::remove_if_exists(out)?;
            }
            if cold {
                procs::drop_caches()?;
            }
            if let Some(f) = input.filter(|_| warm) {
                let r = sysstat::resident_fraction(&f.path)?;
                state.resident_min = Some(state.resident_min.map_or(r, |m: f64| m.min(r)));
                if r < REWARM_BELOW {
                    limits::warm(&f.path, ctx.threads)?;
                    state.rewarmed += 1;
                }
            }
            let t = match who {
                Who::Numpy => {
                    let server = numpy.as_mut().map_err(|e| e.clone())?;
                    let (t, value) = server.run()?;
                    np_value.get_or_insert(value);
                    t
                }
                Who::Mmarray | Who::Compare => {
                    let program = if who == Who::Mmarray {
                        &ctx.mmarray
                    } else {
                        ctx.compare.as_ref().ok_or("no --compare binary")?
                    };
                    // The warm-up run of this build is the one polled for memory.
                    let wait = if timed || who == Who::Compare {
                        Wait::Block
                    } else {
                        Wait::Poll
                    };
                    let (t, mem, value) = run_mmarray(program, &args, wait)?;
                    if who == Who::Mmarray {
                        if !timed {
                            mm_mem = mem;
                        }
                        if mm_value.is_none() {
                            mm_value = value;
                        }
                    } else if cmp_value.is_none() {
                        cmp_value = value;
                    }
                    t
                }
                Who::Limit => match limit_kind {
                    Limit::Read => {
                        let f = input.ok_or("a read limit needs an input")?;
                        limits::read_once(&f.path, &pool, ctx.threads)?
                    }
                    Limit::Disk => {
                        let f = input.ok_or("a read limit needs an input")?;
                        limits::disk_read_once(&f.path, &pool, ctx.threads)?
                    }
                    Limit::Write => {
                        limits::write_once(&limit_out, limit_bytes, &pool, ctx.threads)?
                    }
                },
            };
            if timed {
                times[who as usize].push(t);
            }
        }
        conditions.sample();
        if timed {
            let done = times[Who::Mmarray as usize].len();
            let mm = &times[Who::Mmarray as usize];
            let still_moving = [Who::Numpy, Who::Compare, Who::Limit]
                .iter()
                .any(|&w| widened(&ratios(&times[w as usize], mm)));
            eprintln!(
                "bench:   round {done}: mmarray {:.3} s{}",
                mm.last().copied().unwrap_or(f64::NAN),
                order
                    .iter()
                    .filter(|&&w| w != Who::Mmarray)
                    .filter_map(|&w| times[w as usize].last().map(|t| (w, t)))
                    .map(|(w, t)| format!(", {w:?} {t:.3} s").to_lowercase())
                    .collect::<String>()
            );
            if done >= opts.max_rounds || (done >= opts.rounds && !still_moving) {
                break;
            }
        }
        round += 1;
    }
    conditions.finish(ctx.machine_cpus);
    if let Some(out) = &out {
        procs::remove_if_exists(out)?;
    }
    procs::remove_if_exists(&limit_out)?;

    let [np_t, mm_t, cmp_t, limit_t] = times;
    let numpy = match numpy {
        Ok(server) => {
            let base = server.base_rss_anon_kib;
            Ok(Side {
                samples: Samples { times: np_t },
                mem: server.finish(),
                base_rss_anon_kib: base,
            })
        }
        Err(why) => Err(why),
    };
    let n = input.map_or(0, |f| f.shape.iter().product());
    let mut check = cross_check(op, opts.dtype, n, mm_value.as_ref(), np_value.as_ref());
    if ctx.compare.is_some() && mm_value != cmp_value && check == "ok" {
        // A behaviour change between the two builds: say so, the timing is still valid.
        check = cross_check(op, opts.dtype, n, cmp_value.as_ref(), np_value.as_ref());
        if check == "ok" {
            check = "ok (the --compare binary printed other digits)".into();
        } else {
            check = format!("ok; the --compare binary: {check}");
        }
    }
    if check.starts_with("MISMATCH") {
        eprintln!("bench: WARNING: {}: {check}", op.name());
        notes.push(format!("{} ({size_label}): {check}.", op.name()));
    }
    Ok(Row {
        op,
        label: op.name().into(),
        size: main.nbytes,
        bytes,
        shape,
        limit: Some(LimitRuns {
            kind: limit_kind,
            bytes: limit_bytes,
            samples: Samples { times: limit_t },
        }),
        mmarray: Side {
            samples: Samples { times: mm_t },
            mem: mm_mem,
            base_rss_anon_kib: None,
        },
        compare: ctx.compare.as_ref().map(|_| Side {
            samples: Samples { times: cmp_t },
            mem: Mem::default(),
            base_rss_anon_kib: None,
        }),
        mmarray_cmd,
        numpy,
        check,
        cache: state,
        conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::{ratios, round_order, widened};

    /// Over a cycle, each contender takes every slot equally often and runs right after each
    /// other contender equally often; the warm-up round keeps the order.
    #[test]
    fn rounds_balance_slots_and_who_runs_before_whom() {
        for n in 1..=6usize {
            let order: Vec<usize> = (0..n).collect();
            assert_eq!(round_order(&order, 0), order);
            let cycle = if n.is_multiple_of(2) { n } else { 2 * n };
            let mut slots = vec![vec![0usize; n]; n];
            let mut after = vec![vec![0usize; n]; n];
            for r in 0..cycle {
                let row = round_order(&order, r);
                let mut sorted = row.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, order, "round {r} of {n}: {row:?}");
                for (slot, &who) in row.iter().enumerate() {
                    slots[who][slot] += 1;
                }
                for w in row.windows(2) {
                    after[w[0]][w[1]] += 1;
                }
                assert_eq!(round_order(&order, r + cycle), row);
            }
            for a in 0..n {
                assert!(slots[a].iter().all(|&k| k == cycle / n), "{n}: {slots:?}");
                for b in 0..n {
                    let want = if a == b { 0 } else { cycle / n };
                    assert_eq!(after[a][b], want, "{n}: {after:?}");
                }
            }
        }
        assert!(round_order::<u8>(&[], 3).is_empty());
    }

    #[test]
    fn spread_settles() {
        assert!(!widened(&[]));
        assert!(!widened(&[1.0]));
        assert!(widened(&[1.0, 2.0]));
        assert!(widened(&[1.0, 2.0, 0.5]));
        assert!(!widened(&[1.0, 2.0, 1.5]));
        assert!(!widened(&[1.0, 2.0, 2.0]));
        assert_eq!(ratios(&[2.0, 3.0, 9.0], &[1.0, 3.0]), vec![2.0, 1.0]);
    }
}
