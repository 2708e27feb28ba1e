//! Zarr metadata as mmarray reads and writes it: the parts of `zarr.json` (v3) and
//! `.zarray` (v2) that decide how chunks map to an mmarray array, parsed strictly
//! before `zarrs` sees the store, and the `zarr.json` that [`create`](crate::create)
//! writes.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use mmarray_core::{Error, Order, Result};
use mmarray_dtype::{ByteOrder, DType, Kind, Value};
use serde_json::{Map, Value as Json, json};

/// The largest metadata file read (`zarr.json`, `.zarray`): 16 MiB.
pub(crate) const MAX_METADATA_BYTES: u64 = 16 << 20;

/// What a Zarr array's metadata says, as mmarray sees it.
///
/// `info`-style reports take their fields from here (see [`inspect`](crate::inspect)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoreInfo {
    /// The Zarr format version: 2 or 3.
    pub version: u8,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The element type, with the byte order of the chunk bytes on disk (the
    /// `bytes` codec's endianness in v3, the `dtype` string's in v2).
    pub dtype: DType,
    /// The shape of a chunk as mmarray reads it: the inner chunk of a sharded array.
    pub chunks: Vec<usize>,
    /// The shape of a shard in elements, if the array is sharded.
    pub shards: Option<Vec<usize>>,
    /// The codec names in order, as in the Zarr spec; a sharded array lists
    /// `sharding_indexed` followed by the codecs of its inner chunks. Zarr v2
    /// arrays list `bytes`, their filters and their compressor.
    pub codecs: Vec<String>,
    /// The fill value as written in the metadata.
    pub fill_value: Json,
    /// The order in which the array's elements are best walked: F when the
    /// chunks are stored transposed (a `transpose` codec reversing the axes, or
    /// v2's `"order": "F"`), C otherwise.
    pub order: Order,
    /// The dimension names, if the metadata has them.
    pub dimension_names: Option<Vec<Option<String>>>,
    /// Where a shard's index lies and whether it ends with a checksum.
    pub(crate) index: Option<IndexLayout>,
}

/// The layout of a shard's index (`sharding_indexed`'s `index_location` and
/// `index_codecs`, of which mmarray reads `bytes` little-endian optionally
/// followed by `crc32c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexLayout {
    pub(crate) at_end: bool,
    pub(crate) crc32c: bool,
}

/// Reads the metadata of the Zarr array at `path` (a directory).
pub(crate) fn read(path: &Path) -> Result<StoreInfo> {
    let v3 = path.join("zarr.json");
    let v2 = path.join(".zarray");
    if !path.is_dir() {
        let reason = if path.exists() {
            "not a directory, so not a Zarr store"
        } else {
            "no such Zarr store"
        };
        return Err(layout(path, reason.to_owned()));
    }
    if v3.is_file() {
        let json = read_json(path, &v3)?;
        parse_v3(&json).map_err(|r| layout(path, format!("zarr.json: {r}")))
    } else if v2.is_file() {
        let json = read_json(path, &v2)?;
        parse_v2(&json).map_err(|r| layout(path, format!(".zarray: {r}")))
    } else if path.join(".zgroup").is_file() {
        Err(layout(
            path,
            "a Zarr v2 group, not an array (open one of its arrays)".to_owned(),
        ))
    } else {
        Err(layout(
            path,
            "not a Zarr array: the folder has no zarr.json (v3) or .zarray (v2)".to_owned(),
        ))
    }
}

/// The metadata file of a Zarr version.
pub(crate) fn file_name(version: u8) -> &'static str {
    if version == 2 { ".zarray" } else { "zarr.json" }
}

pub(crate) fn layout(path: &Path, reason: String) -> Error {
    Error::Layout {
        path: path.to_owned(),
        reason,
    }
}

/// Reads a metadata file of at most [`MAX_METADATA_BYTES`] as JSON.
fn read_json(store: &Path, file: &Path) -> Result<Json> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let f = File::open(file).map_err(|e| Error::Io {
        path: file.to_owned(),
        action: "open",
        source: e,
    })?;
    let mut text = Vec::new();
    f.take(MAX_METADATA_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| Error::Io {
            path: file.to_owned(),
            action: "read",
            source: e,
        })?;
    if text.len() as u64 > MAX_METADATA_BYTES {
        return Err(layout(
            store,
            format!("{name}: larger than {MAX_METADATA_BYTES} bytes"),
        ));
    }
    serde_json::from_slice(&text).map_err(|e| layout(store, format!("{name}: not valid JSON: {e}")))
}

type Parsed<T> = std::result::Result<T, String>;

fn field<'a>(obj: &'a Map<String, Json>, key: &str) -> Parsed<&'a Json> {
    obj.get(key).ok_or_else(|| format!("no \"{key}\""))
}

fn object<'a>(json: &'a Json, what: &str) -> Parsed<&'a Map<String, Json>> {
    json.as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

/// A list of sizes (`shape`, `chunk_shape`); chunk sides must be at least 1.
fn sizes(json: &Json, what: &str, positive: bool) -> Parsed<Vec<usize>> {
    let list = json
        .as_array()
        .ok_or_else(|| format!("\"{what}\" is not a list"))?;
    if list.len() > mmarray_core::MAX_DIMS {
        return Err(format!(
            "\"{what}\" has {} dimensions, at most {} are supported",
            list.len(),
            mmarray_core::MAX_DIMS
        ));
    }
    list.iter()
        .map(|v| {
            let n = v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("\"{what}\" holds {v}, not a size"))?;
            if positive && n == 0 {
                return Err(format!(
                    "\"{what}\" holds 0: chunk sides must be at least 1"
                ));
            }
            Ok(n)
        })
        .collect()
}

/// The kind of a Zarr v3 data type name (Zarr v3 names the core data types as
/// numpy does: `bool`, `int8`, ..., `complex128`).
pub(crate) fn kind_of_v3(name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.name() == name)
}

/// The Zarr v3 data type name of a kind (numpy's name).
pub(crate) fn v3_name(kind: Kind) -> &'static str {
    kind.name()
}

/// A codec's name and configuration.
fn codec(json: &Json) -> Parsed<(&str, Option<&Map<String, Json>>)> {
    let obj = object(json, "a codec")?;
    let name = field(obj, "name")?
        .as_str()
        .ok_or("a codec's \"name\" is not a string")?;
    let config = match obj.get("configuration") {
        None => None,
        Some(c) => Some(object(c, "a codec's \"configuration\"")?),
    };
    Ok((name, config))
}

fn codec_list<'a>(json: &'a Json, what: &str) -> Parsed<&'a Vec<Json>> {
    json.as_array()
        .ok_or_else(|| format!("\"{what}\" is not a list"))
}

/// What a v3 codec chain says: byte order of the `bytes` codec, whether it
/// transposes to F order, and its names (with a sharding codec's inner chain).
struct Chain {
    endian: Option<ByteOrder>,
    f_order: bool,
    names: Vec<String>,
    inner: Option<Vec<usize>>,
    index: Option<IndexLayout>,
}

fn chain(codecs: &[Json], ndim: usize, depth: usize) -> Parsed<Chain> {
    let mut out = Chain {
        endian: None,
        f_order: false,
        names: Vec::new(),
        inner: None,
        index: None,
    };
    let reversed: Vec<u64> = (0..ndim as u64).rev().collect();
    for c in codecs {
        let (name, config) = codec(c)?;
        out.names.push(name.to_owned());
        match name {
            "bytes" => {
                out.endian = match config.and_then(|c| c.get("endian")) {
                    None => None,
                    Some(e) => match e.as_str() {
                        Some("little") => Some(ByteOrder::Little),
                        Some("big") => Some(ByteOrder::Big),
                        _ => {
                            return Err(format!(
                                "the bytes codec's endian {e} is not little or big"
                            ));
                        }
                    },
                };
            }
            "transpose" => {
                let order = config
                    .and_then(|c| c.get("order"))
                    .and_then(Json::as_array)
                    .ok_or("the transpose codec has no \"order\" list")?;
                let order: Vec<u64> = order.iter().filter_map(Json::as_u64).collect();
                out.f_order = ndim > 1 && order == reversed;
            }
            "sharding_indexed" if depth == 0 => {
                let config = config.ok_or("the sharding codec has no configuration")?;
                let inner = sizes(field(config, "chunk_shape")?, "chunk_shape", true)?;
                if inner.len() != ndim {
                    return Err(format!(
                        "the sharding codec's chunk_shape {inner:?} has {} dimensions, the array {ndim}",
                        inner.len()
                    ));
                }
                let sub = chain(codec_list(field(config, "codecs")?, "codecs")?, ndim, 1)?;
                out.endian = sub.endian;
                out.f_order |= sub.f_order;
                out.names.extend(sub.names);
                out.inner = Some(inner);
                out.index = Some(index_layout(config)?);
            }
            "sharding_indexed" => return Err("nested sharding is not supported".to_owned()),
            _ => {}
        }
    }
    Ok(out)
}

fn index_layout(config: &Map<String, Json>) -> Parsed<IndexLayout> {
    let at_end = match config.get("index_location").map(Json::as_str) {
        None | Some(Some("end")) => true,
        Some(Some("start")) => false,
        Some(_) => return Err("the sharding codec's index_location is not start or end".into()),
    };
    let codecs = codec_list(field(config, "index_codecs")?, "index_codecs")?;
    let mut names = Vec::new();
    for c in codecs {
        let (name, config) = codec(c)?;
        let big = config
            .and_then(|c| c.get("endian"))
            .is_some_and(|e| e.as_str() == Some("big"));
        if name == "bytes" && big {
            return Err("big-endian shard indexes are not supported".into());
        }
        names.push(name);
    }
    let crc32c = match names.as_slice() {
        ["bytes"] => false,
        ["bytes", "crc32c"] => true,
        _ => {
            return Err(format!(
                "shard index codecs {names:?} are not supported (bytes, optionally crc32c)"
            ));
        }
    };
    Ok(IndexLayout { at_end, crc32c })
}

fn dimension_names(obj: &Map<String, Json>) -> Option<Vec<Option<String>>> {
    obj.get("dimension_names")?.as_array().map(|names| {
        names
            .iter()
            .map(|n| n.as_str().map(str::to_owned))
            .collect()
    })
}

fn parse_v3(json: &Json) -> Parsed<StoreInfo> {
    let obj = object(json, "the metadata")?;
    match field(obj, "zarr_format")?.as_u64() {
        Some(3) => {}
        _ => return Err(format!("zarr_format is {}, not 3", obj["zarr_format"])),
    }
    match field(obj, "node_type")?.as_str() {
        Some("array") => {}
        Some("group") => return Err("a Zarr group, not an array (open one of its arrays)".into()),
        _ => return Err(format!("node_type is {}, not \"array\"", obj["node_type"])),
    }
    let shape = sizes(field(obj, "shape")?, "shape", false)?;
    let dt = field(obj, "data_type")?;
    let name = dt.as_str().unwrap_or_default();
    let kind = kind_of_v3(name).ok_or_else(|| {
        format!(
            "data type {dt} is not supported (mmarray has bool, int8..int64, uint8..uint64, \
             float16/32/64, complex64/128)"
        )
    })?;
    let grid = object(field(obj, "chunk_grid")?, "\"chunk_grid\"")?;
    match field(grid, "name")?.as_str() {
        Some("regular") => {}
        _ => {
            return Err(format!(
                "chunk grid {} is not supported (only \"regular\")",
                grid["name"]
            ));
        }
    }
    let config = object(
        field(grid, "configuration")?,
        "the chunk grid's configuration",
    )?;
    let outer = sizes(field(config, "chunk_shape")?, "chunk_shape", true)?;
    if outer.len() != shape.len() {
        return Err(format!(
            "chunk_shape {outer:?} has {} dimensions, shape {shape:?} has {}",
            outer.len(),
            shape.len()
        ));
    }
    let codecs = codec_list(field(obj, "codecs")?, "codecs")?;
    let c = chain(codecs, shape.len(), 0)?;
    let (chunks, shards) = match c.inner {
        Some(inner) => {
            if let Some(ax) = (0..shape.len()).find(|&a| outer[a] % inner[a] != 0) {
                return Err(format!(
                    "the shard shape {outer:?} is not a multiple of the inner chunk shape {inner:?} along axis {ax}"
                ));
            }
            (inner, Some(outer))
        }
        None => (outer, None),
    };
    let byte_order = if kind.itemsize() == 1 || matches!(kind, Kind::Bool) {
        ByteOrder::NATIVE
    } else {
        c.endian.unwrap_or(ByteOrder::Little)
    };
    Ok(StoreInfo {
        version: 3,
        shape,
        dtype: DType::new(kind, byte_order),
        chunks,
        shards,
        codecs: c.names,
        fill_value: field(obj, "fill_value")?.clone(),
        order: if c.f_order { Order::F } else { Order::C },
        dimension_names: dimension_names(obj),
        index: c.index,
    })
}

fn parse_v2(json: &Json) -> Parsed<StoreInfo> {
    let obj = object(json, "the metadata")?;
    match field(obj, "zarr_format")?.as_u64() {
        Some(2) => {}
        _ => return Err(format!("zarr_format is {}, not 2", obj["zarr_format"])),
    }
    let shape = sizes(field(obj, "shape")?, "shape", false)?;
    let chunks = sizes(field(obj, "chunks")?, "chunks", true)?;
    if chunks.len() != shape.len() {
        return Err(format!(
            "chunks {chunks:?} has {} dimensions, shape {shape:?} has {}",
            chunks.len(),
            shape.len()
        ));
    }
    let dt = field(obj, "dtype")?;
    let dtype = dt
        .as_str()
        .and_then(|d| DType::parse(d).ok())
        .ok_or_else(|| format!("dtype {dt} is not supported"))?;
    let order = match field(obj, "order")?.as_str() {
        Some("C") => Order::C,
        Some("F") => Order::F,
        _ => return Err(format!("order {} is not \"C\" or \"F\"", obj["order"])),
    };
    let mut codecs = vec!["bytes".to_owned()];
    if let Some(filters) = obj.get("filters").and_then(Json::as_array) {
        for f in filters {
            let id = object(f, "a filter")?
                .get("id")
                .and_then(Json::as_str)
                .ok_or("a filter has no \"id\"")?;
            codecs.push(id.to_owned());
        }
    }
    match obj.get("compressor") {
        None | Some(Json::Null) => {}
        Some(c) => {
            let id = object(c, "the compressor")?
                .get("id")
                .and_then(Json::as_str)
                .ok_or("the compressor has no \"id\"")?;
            codecs.push(id.to_owned());
        }
    }
    Ok(StoreInfo {
        version: 2,
        shape,
        dtype,
        chunks,
        shards: None,
        codecs,
        fill_value: obj.get("fill_value").cloned().unwrap_or(Json::Null),
        order: if order == Order::F && chunks_nd(obj) > 1 {
            Order::F
        } else {
            Order::C
        },
        dimension_names: None,
        index: None,
    })
}

fn chunks_nd(obj: &Map<String, Json>) -> usize {
    obj.get("shape")
        .and_then(Json::as_array)
        .map_or(0, Vec::len)
}

/// The compressor of a new store (a bytes-to-bytes codec after `bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compressor {
    /// No compression: chunks hold their bytes as they are.
    None,
    /// `zstd` at a level (1 is fast, 22 is small; negative levels are faster still).
    Zstd(i32),
    /// `gzip` at a level 0..=9.
    Gzip(u32),
    /// `blosc` with a compressor, a level 0..=9 and byte shuffling.
    Blosc {
        /// The compressor inside blosc.
        cname: BloscCompressor,
        /// The level, 0..=9.
        clevel: u8,
        /// How bytes are shuffled before compression.
        shuffle: BloscShuffle,
    },
}

impl Default for Compressor {
    /// `zstd` at level 1.
    fn default() -> Compressor {
        Compressor::Zstd(1)
    }
}

impl Compressor {
    /// Parses the text form used by the `mmarray` command's `--codec` and the
    /// Python package's `codec=`: `zstd[:LEVEL]` (level -131072..=22, default 1),
    /// `gzip[:LEVEL]` (0..=9, default 6), `blosc[:CNAME[:LEVEL]]` (CNAME one of
    /// `lz4` (default), `lz4hc`, `blosclz`, `zstd`, `zlib`; level 0..=9, default 5;
    /// byte shuffling) or `none`. Also available as [`str::parse`].
    ///
    /// ```
    /// use mmarray_zarr::{BloscCompressor, BloscShuffle, Compressor};
    /// assert_eq!(Compressor::parse("zstd")?, Compressor::Zstd(1));
    /// assert_eq!("gzip:9".parse::<Compressor>()?, Compressor::Gzip(9));
    /// assert_eq!(
    ///     Compressor::parse("blosc:zstd:3")?,
    ///     Compressor::Blosc { cname: BloscCompressor::Zstd, clevel: 3, shuffle: BloscShuffle::Byte }
    /// );
    /// let err = Compressor::parse("zstd:99").unwrap_err();
    /// assert_eq!(err.to_string(), r#"invalid codec "zstd:99": level "99" is not an integer in -131072..=22"#);
    /// # Ok::<(), mmarray_zarr::ParseCompressorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParseCompressorError`] for an unknown codec or blosc compressor, a level
    /// that is not an integer in range, or too many `:`-separated parts.
    pub fn parse(text: &str) -> std::result::Result<Compressor, ParseCompressorError> {
        let err = |reason: String| ParseCompressorError {
            text: text.to_owned(),
            reason,
        };
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let level = |t: &str, range: std::ops::RangeInclusive<i64>| {
            t.parse::<i64>()
                .ok()
                .filter(|l| range.contains(l))
                .ok_or_else(|| {
                    err(format!(
                        "level {t:?} is not an integer in {}..={}",
                        range.start(),
                        range.end()
                    ))
                })
        };
        Ok(match (name, rest.as_slice()) {
            ("none", []) => Compressor::None,
            ("zstd", []) => Compressor::Zstd(1),
            ("zstd", [l]) => Compressor::Zstd(i32::try_from(level(l, -131_072..=22)?).unwrap_or(1)),
            ("gzip", []) => Compressor::Gzip(6),
            ("gzip", [l]) => Compressor::Gzip(u32::try_from(level(l, 0..=9)?).unwrap_or(6)),
            ("blosc", parts) if parts.len() <= 2 => {
                let cname = match parts.first() {
                    None => BloscCompressor::Lz4,
                    Some(c) => BloscCompressor::from_name(c).ok_or_else(|| {
                        err(format!(
                            "blosc compressor {c:?} is not one of lz4, lz4hc, blosclz, zstd, zlib"
                        ))
                    })?,
                };
                let clevel = match parts.get(1) {
                    None => 5,
                    Some(l) => u8::try_from(level(l, 0..=9)?).unwrap_or(5),
                };
                Compressor::Blosc {
                    cname,
                    clevel,
                    shuffle: BloscShuffle::Byte,
                }
            }
            ("none" | "zstd" | "gzip" | "blosc", _) => {
                return Err(err("too many parts".to_owned()));
            }
            _ => {
                return Err(err(
                    "expected zstd[:LEVEL], gzip[:LEVEL], blosc[:CNAME[:LEVEL]] or none".to_owned(),
                ));
            }
        })
    }
}

impl std::str::FromStr for Compressor {
    type Err = ParseCompressorError;

    fn from_str(text: &str) -> std::result::Result<Compressor, ParseCompressorError> {
        Compressor::parse(text)
    }
}

/// A codec text that [`Compressor::parse`] refused: the text and what is wrong
/// with it. Displayed as `invalid codec "TEXT": REASON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseCompressorError {
    text: String,
    reason: String,
}

impl ParseCompressorError {
    /// The text that was parsed.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What is wrong with it.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl std::fmt::Display for ParseCompressorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid codec {:?}: {}", self.text, self.reason)
    }
}

impl std::error::Error for ParseCompressorError {}

/// The compressor inside a `blosc` codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BloscCompressor {
    /// `blosclz`
    BloscLz,
    /// `lz4`
    Lz4,
    /// `lz4hc`
    Lz4Hc,
    /// `zlib`
    Zlib,
    /// `zstd`
    Zstd,
}

impl BloscCompressor {
    /// The name in Zarr metadata.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            BloscCompressor::BloscLz => "blosclz",
            BloscCompressor::Lz4 => "lz4",
            BloscCompressor::Lz4Hc => "lz4hc",
            BloscCompressor::Zlib => "zlib",
            BloscCompressor::Zstd => "zstd",
        }
    }

    /// The compressor of a name (`blosclz`, `lz4`, `lz4hc`, `zlib`, `zstd`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<BloscCompressor> {
        Some(match name {
            "blosclz" => BloscCompressor::BloscLz,
            "lz4" => BloscCompressor::Lz4,
            "lz4hc" => BloscCompressor::Lz4Hc,
            "zlib" => BloscCompressor::Zlib,
            "zstd" => BloscCompressor::Zstd,
            _ => return None,
        })
    }
}

/// Byte shuffling in a `blosc` codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BloscShuffle {
    /// `noshuffle`
    None,
    /// `shuffle`: bytes of the same significance together.
    Byte,
    /// `bitshuffle`: bits of the same significance together.
    Bit,
}

impl BloscShuffle {
    fn name(self) -> &'static str {
        match self {
            BloscShuffle::None => "noshuffle",
            BloscShuffle::Byte => "shuffle",
            BloscShuffle::Bit => "bitshuffle",
        }
    }
}

/// The JSON of a fill value of `kind` (Zarr v3's rules: NaN and infinities as
/// strings, complex numbers as pairs).
pub(crate) fn fill_json(value: Value, kind: Kind) -> Json {
    fn float(x: f64) -> Json {
        if x.is_nan() {
            json!("NaN")
        } else if x.is_infinite() {
            json!(if x > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
        }
    }
    match value.cast_to(kind) {
        Value::Bool(b) => json!(b),
        Value::I8(v) => json!(v),
        Value::I16(v) => json!(v),
        Value::I32(v) => json!(v),
        Value::I64(v) => json!(v),
        Value::U8(v) => json!(v),
        Value::U16(v) => json!(v),
        Value::U32(v) => json!(v),
        Value::U64(v) => json!(v),
        Value::F16(v) => float(v.to_f64()),
        Value::F32(v) => float(f64::from(v)),
        Value::F64(v) => float(v),
        Value::C64(c) => json!([float(f64::from(c.re)), float(f64::from(c.im))]),
        Value::C128(c) => json!([float(c.re), float(c.im)]),
    }
}

/// The parts of a new array's `zarr.json`.
pub(crate) struct NewArray<'a> {
    pub(crate) dtype: DType,
    pub(crate) shape: &'a [usize],
    pub(crate) chunks: &'a [usize],
    /// Chunks per shard along each axis.
    pub(crate) shards: Option<&'a [usize]>,
    pub(crate) compressor: Compressor,
    pub(crate) checksum: bool,
    pub(crate) order: Order,
    pub(crate) fill: Json,
}

/// The `zarr.json` of a new array.
pub(crate) fn new_metadata(a: &NewArray<'_>) -> Json {
    let nd = a.shape.len();
    let kind = a.dtype.kind();
    let mut codecs = Vec::new();
    if a.order == Order::F && nd > 1 {
        let order: Vec<usize> = (0..nd).rev().collect();
        codecs.push(json!({"name": "transpose", "configuration": {"order": order}}));
    }
    if kind.itemsize() > 1 {
        let endian = match a.dtype.byte_order() {
            ByteOrder::Little => "little",
            ByteOrder::Big => "big",
        };
        codecs.push(json!({"name": "bytes", "configuration": {"endian": endian}}));
    } else {
        codecs.push(json!({"name": "bytes"}));
    }
    match a.compressor {
        Compressor::None => {}
        Compressor::Zstd(level) => {
            codecs.push(
                json!({"name": "zstd", "configuration": {"level": level, "checksum": false}}),
            );
        }
        Compressor::Gzip(level) => {
            codecs.push(json!({"name": "gzip", "configuration": {"level": level}}));
        }
        Compressor::Blosc {
            cname,
            clevel,
            shuffle,
        } => codecs.push(json!({"name": "blosc", "configuration": {
            "cname": cname.name(), "clevel": clevel, "shuffle": shuffle.name(),
            "typesize": kind.itemsize(), "blocksize": 0}})),
    }
    if a.checksum {
        codecs.push(json!({"name": "crc32c"}));
    }
    let mut grid_chunks = a.chunks.to_vec();
    if let Some(per) = a.shards {
        for (g, p) in grid_chunks.iter_mut().zip(per) {
            *g *= p;
        }
        codecs = vec![json!({"name": "sharding_indexed", "configuration": {
            "chunk_shape": a.chunks,
            "codecs": codecs,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end"}})];
    }
    let names: Vec<String> = (0..nd).map(|i| format!("dim_{i}")).collect();
    json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": a.shape,
        "data_type": v3_name(kind),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid_chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": a.fill,
        "codecs": codecs,
        "attributes": {},
        "dimension_names": names,
    })
}

#[cfg(test)]
mod tests {
    use super::{BloscCompressor, BloscShuffle, Compressor};

    #[test]
    fn codec_texts_parse() {
        let blosc = |cname, clevel| Compressor::Blosc {
            cname,
            clevel,
            shuffle: BloscShuffle::Byte,
        };
        for (text, want) in [
            ("none", Compressor::None),
            ("zstd", Compressor::Zstd(1)),
            ("zstd:22", Compressor::Zstd(22)),
            ("zstd:-5", Compressor::Zstd(-5)),
            ("zstd:-131072", Compressor::Zstd(-131_072)),
            ("gzip", Compressor::Gzip(6)),
            ("gzip:0", Compressor::Gzip(0)),
            ("blosc", blosc(BloscCompressor::Lz4, 5)),
            ("blosc:zlib", blosc(BloscCompressor::Zlib, 5)),
            ("blosc:lz4hc:9", blosc(BloscCompressor::Lz4Hc, 9)),
            ("blosc:blosclz:0", blosc(BloscCompressor::BloscLz, 0)),
        ] {
            assert_eq!(Compressor::parse(text), Ok(want), "{text}");
            assert_eq!(text.parse::<Compressor>(), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_codec_texts_say_what_is_wrong() {
        for (text, reason) in [
            (
                "",
                "expected zstd[:LEVEL], gzip[:LEVEL], blosc[:CNAME[:LEVEL]] or none",
            ),
            (
                "lzma",
                "expected zstd[:LEVEL], gzip[:LEVEL], blosc[:CNAME[:LEVEL]] or none",
            ),
            (
                "ZSTD",
                "expected zstd[:LEVEL], gzip[:LEVEL], blosc[:CNAME[:LEVEL]] or none",
            ),
            ("zstd:23", r#"level "23" is not an integer in -131072..=22"#),
            ("zstd:", r#"level "" is not an integer in -131072..=22"#),
            (
                "zstd:1.5",
                r#"level "1.5" is not an integer in -131072..=22"#,
            ),
            ("zstd:99999999999999999999", "is not an integer"),
            ("gzip:10", r#"level "10" is not an integer in 0..=9"#),
            ("gzip:-1", r#"level "-1" is not an integer in 0..=9"#),
            ("none:1", "too many parts"),
            ("zstd:1:2", "too many parts"),
            ("blosc:lz4:5:byte", "too many parts"),
            (
                "blosc:snappy",
                r#"blosc compressor "snappy" is not one of lz4, lz4hc, blosclz, zstd, zlib"#,
            ),
            ("blosc:zstd:10", r#"level "10" is not an integer in 0..=9"#),
        ] {
            let err = Compressor::parse(text).unwrap_err();
            assert_eq!(err.text(), text);
            assert!(err.reason().contains(reason), "{text}: {}", err.reason());
            assert_eq!(
                err.to_string(),
                format!("invalid codec {text:?}: {}", err.reason())
            );
        }
    }
}
