//! Checks of a stored chunk's bytes before they reach a decompressor that would
//! allocate what they claim: a zstd frame's content size and a blosc header's
//! `nbytes` are sizes written in the data, and a hostile store can claim a
//! terabyte in a few bytes. Decoders allocate the sizes they read, so a claim
//! larger than the chunk it decodes to is refused here first.
//!
//! gzip streams claim no size up front; they are decoded as they come (their
//! output is bounded by the data's real size, at most about 1000 times the
//! stored bytes).

/// The largest a zstd block decodes to.
const ZSTD_BLOCK_MAX: u64 = 128 << 10;

/// Checks `raw`, the stored bytes of a chunk whose bytes-to-bytes codecs (in
/// metadata order) are `codecs` and whose `bytes` codec output is `decoded` bytes.
pub(crate) fn screen(raw: &[u8], codecs: &[String], decoded: usize) -> Result<(), String> {
    let mut data = raw;
    // Undo the outermost codecs while they are checksums (a 4-byte suffix).
    let mut rest = codecs;
    while let Some((last, before)) = rest.split_last() {
        if last != "crc32c" {
            break;
        }
        if data.len() < 4 {
            return Err(format!(
                "{} bytes stored, shorter than a crc32c checksum",
                raw.len()
            ));
        }
        data = &data[..data.len() - 4];
        rest = before;
    }
    let Some((outer, inner)) = rest.split_last() else {
        return Ok(());
    };
    // What the outermost compressor decodes to, when only checksums lie between it
    // and the `bytes` codec.
    if !inner.iter().all(|c| c == "crc32c") {
        return Ok(());
    }
    let expected = decoded as u64 + 4 * inner.len() as u64;
    match outer.as_str() {
        "zstd" => {
            let claimed = zstd_bound(data)?;
            if claimed > expected + 2 * ZSTD_BLOCK_MAX {
                return Err(format!(
                    "the zstd data claims to decode to {claimed} bytes, the chunk has {expected}"
                ));
            }
        }
        "blosc" => {
            if data.len() < 16 {
                return Err(format!(
                    "{} bytes of blosc data, shorter than a blosc header",
                    data.len()
                ));
            }
            let nbytes = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
            if u64::from(nbytes) != expected {
                return Err(format!(
                    "the blosc header claims {nbytes} bytes, the chunk has {expected}"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The most bytes the zstd frames in `data` can decode to, as zstd's
/// `ZSTD_decompressBound` computes it: a frame's content size where its header
/// has one, else 128 KiB per block. Malformed or truncated frames are errors.
fn zstd_bound(mut data: &[u8]) -> Result<u64, String> {
    let truncated = || "truncated zstd data".to_owned();
    let mut total: u64 = 0;
    while !data.is_empty() {
        let magic = u32::from_le_bytes(
            data.get(..4)
                .ok_or_else(truncated)?
                .try_into()
                .unwrap_or_default(),
        );
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            // A skippable frame: magic, 4-byte length, payload.
            let len = u32::from_le_bytes(
                data.get(4..8)
                    .ok_or_else(truncated)?
                    .try_into()
                    .unwrap_or_default(),
            );
            let end = 8usize.checked_add(len as usize).ok_or_else(truncated)?;
            data = data.get(end..).ok_or_else(truncated)?;
            continue;
        }
        if magic != 0xFD2F_B528 {
            return Err("not zstd data (bad frame magic)".to_owned());
        }
        let fhd = *data.get(4).ok_or_else(truncated)?;
        let fcs_flag = fhd >> 6;
        let single = (fhd >> 5) & 1 == 1;
        let checksum = (fhd >> 2) & 1 == 1;
        let mut pos = 5 + usize::from(!single) + [0, 1, 2, 4][usize::from(fhd & 3)];
        let fcs_size = match fcs_flag {
            0 => usize::from(single),
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let fcs_bytes = data.get(pos..pos + fcs_size).ok_or_else(truncated)?;
        let mut fcs = [0u8; 8];
        fcs[..fcs_size].copy_from_slice(fcs_bytes);
        let mut content = u64::from_le_bytes(fcs);
        if fcs_size == 2 {
            content += 256;
        }
        pos += fcs_size;
        let mut blocks: u64 = 0;
        loop {
            let h = data.get(pos..pos + 3).ok_or_else(truncated)?;
            let header = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
            let last = header & 1 == 1;
            let size = (header >> 3) as usize;
            pos += 3;
            pos += match (header >> 1) & 3 {
                0 | 2 => size,
                1 => 1,
                _ => return Err("corrupt zstd data (reserved block type)".to_owned()),
            };
            if pos > data.len() {
                return Err(truncated());
            }
            blocks += ZSTD_BLOCK_MAX;
            if last {
                break;
            }
        }
        if checksum {
            pos += 4;
        }
        let frame = if fcs_size > 0 { content } else { blocks };
        total = total.saturating_add(frame);
        data = data.get(pos..).ok_or_else(truncated)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn zstd_claims_are_bounded_by_the_chunk() {
        // A frame header claiming 2^40 bytes (8-byte content size), one empty raw last block.
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0b1110_0000];
        frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
        frame.extend_from_slice(&[1, 0, 0]);
        let err = screen(&frame, &names(&["zstd"]), 800).unwrap_err();
        assert!(
            err.contains("claims to decode to 1099511627776 bytes"),
            "{err}"
        );
        // The same header claiming 800 bytes passes (the decoder checks the rest).
        frame[5..13].copy_from_slice(&800u64.to_le_bytes());
        assert!(screen(&frame, &names(&["zstd"]), 800).is_ok());
        // Behind a checksum too.
        let mut with_crc = frame.clone();
        with_crc[5..13].copy_from_slice(&(1u64 << 40).to_le_bytes());
        with_crc.extend_from_slice(&[0; 4]);
        assert!(screen(&with_crc, &names(&["zstd", "crc32c"]), 800).is_err());
        // Truncated and foreign data.
        assert_eq!(
            screen(&frame[..7], &names(&["zstd"]), 800).unwrap_err(),
            "truncated zstd data"
        );
        assert!(screen(b"hello world", &names(&["zstd"]), 800).is_err());
    }

    #[test]
    fn blosc_headers_must_match_the_chunk() {
        let mut header = [2u8, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0];
        header[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(screen(&header, &names(&["blosc"]), 800).is_err());
        header[4..8].copy_from_slice(&800u32.to_le_bytes());
        assert!(screen(&header, &names(&["blosc"]), 800).is_ok());
        assert!(screen(&header[..10], &names(&["blosc"]), 800).is_err());
    }
}
