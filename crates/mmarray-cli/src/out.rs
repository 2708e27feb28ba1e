//! Writing to standard output without panicking when its reader goes away.

use std::io::{ErrorKind, Write};

use crate::error::CliError;

/// Prints `text` and a newline on stdout.
pub(crate) fn line(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() == ErrorKind::BrokenPipe {
                CliError::BrokenPipe
            } else {
                CliError::Failed(format!("standard output: {e}"))
            }
        })
}

/// A size in bytes for people, the one size format of the whole CLI (`info`, the
/// progress bars, `tour`): bytes below 1 KiB as a count (`1 byte`, `512 bytes`),
/// larger sizes in binary units to four significant digits (`1.500 KiB`,
/// `762.9 MiB`, `2.980 GiB`, `1023 MiB`).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return count(bytes, "byte");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let mut text = four_digits(value);
    // 1023.96 KiB would print as "1024 KiB": move to the next unit instead.
    if text == "1024" && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
        text = four_digits(value);
    }
    format!("{text} {}", UNITS[unit])
}

/// `value` (in 1..1024) to four significant digits: `1.500`, `762.9`, `1023`.
fn four_digits(value: f64) -> String {
    let decimals = match value {
        v if v < 9.9995 => 3,
        v if v < 99.995 => 2,
        v if v < 999.95 => 1,
        _ => 0,
    };
    format!("{value:.decimals$}")
}

/// `n` and a noun that agrees with it in number: `1 item`, `0 items`, `2 bytes`.
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A byte count for people: `96 bytes`, `1 byte`, `762.9 MiB (800000000 bytes)`.
pub(crate) fn bytes_text(bytes: u64) -> String {
    if bytes < 1024 {
        count(bytes, "byte")
    } else {
        format!("{} ({bytes} bytes)", human_size(bytes))
    }
}

/// A shape as numpy prints it: `()`, `(5,)`, `(2, 3)`.
pub(crate) fn py_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(ToString::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1.000 KiB");
        assert_eq!(human_size(1536), "1.500 KiB");
        assert_eq!(human_size(10 * 1024 + 512), "10.50 KiB");
        assert_eq!(human_size(100 * 1024), "100.0 KiB");
        assert_eq!(human_size(800_000_000), "762.9 MiB");
        assert_eq!(human_size(3_200_000_000), "2.980 GiB");
        assert_eq!(human_size(1000 * 1024 * 1024), "1000 MiB");
        assert_eq!(human_size(1023 * 1024 * 1024), "1023 MiB");
        assert_eq!(human_size(1024 * 1024 - 1), "1.000 MiB");
        assert_eq!(human_size(1024 * 1024 * 1024 - 1), "1.000 GiB");
        assert_eq!(human_size(u64::MAX), "16.00 EiB");
        // Rounding at each digit boundary keeps four significant digits.
        assert_eq!(human_size(10 * 1024 - 1), "9.999 KiB");
        assert_eq!(human_size(10 * 1024), "10.00 KiB");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(count(1, "item"), "1 item");
        assert_eq!(count(0, "item"), "0 items");
        assert_eq!(count(2, "byte"), "2 bytes");
        assert_eq!(bytes_text(1), "1 byte");
        assert_eq!(bytes_text(96), "96 bytes");
        assert_eq!(bytes_text(800_000_000), "762.9 MiB (800000000 bytes)");
    }
}
