//! Zarr v3 arrays (and Zarr v2 arrays, read-only) as chunked mmarray arrays,
//! through the [`zarrs`] crate: a plugin of `mmarray-core`'s chunk seam
//! ([`mmarray_core::chunk`]).
//!
//! - [`open`] a store (a folder with `zarr.json` or `.zarray`) as a
//!   [`Chunked`](mmarray_core::chunk::Chunked) array: views by numpy's basic
//!   indexing across chunks, and every `mmarray-ops` operation over them;
//!   [`inspect`] its metadata.
//! - [`create`] an empty Zarr v3 array, written in place chunk by chunk
//!   ([`open_writable`] reopens one), or [`convert`] any array or view into a new
//!   store, in parallel, in bounded memory, appearing under its name complete or
//!   not at all; [`append`] grows a store in place along its growth axis
//!   (readers see the old or the new shape, never one between).
//! - Every mmarray element type (bool, int8..int64, uint8..uint64,
//!   float16/32/64, complex64/128) in both byte orders (the `bytes` codec's
//!   endianness); the codecs `bytes`, `transpose`, `zstd`, `gzip`, `blosc`,
//!   `crc32c` and `sharding_indexed`; regular chunk grids with partial edge
//!   chunks; missing chunks read as the fill value.
//! - Hostile stores give errors naming the store and the chunk key, never
//!   panics: metadata is parsed strictly before `zarrs` sees it, sizes are
//!   checked ([`MAX_CHUNK_BYTES`], [`MAX_CHUNKS_PER_SHARD`]), sizes claimed inside
//!   compressed chunks are checked before a decoder allocates them, and
//!   opening or reading never writes.
//!
//! ```
//! use mmarray_core::{Order, View};
//! use mmarray_dtype::ByteOrder;
//! use mmarray_zarr::{Compressor, CreateOptions};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("a.zarr");
//! let values: Vec<f64> = (0..35).map(f64::from).collect();
//! let src = View::<f64>::from_bytes(bytemuck::cast_slice(&values), &[5, 7], Order::C, ByteOrder::NATIVE)?;
//!
//! // A store of 2 x 3 chunks, 2 x 2 chunks per shard, zstd level 3.
//! let options = CreateOptions::new().chunks(&[2, 3]).shards(&[2, 2]).compressor(Compressor::Zstd(3));
//! mmarray_zarr::convert(&src, &path, &options)?;
//!
//! let a = mmarray_zarr::open(&path)?;
//! assert_eq!(a.shape(), [5, 7]);
//! assert_eq!(a.view::<f64>()?.slice("1:4, ::-2")?.to_vec()?, src.slice("1:4, ::-2")?.to_vec());
//! let info = mmarray_zarr::inspect(&path)?;
//! assert_eq!((info.chunks, info.shards), (vec![2, 3], Some(vec![4, 6])));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod append;
mod create;
mod meta;
mod screen;
mod shard;
mod source;
mod staging;
mod stream;

pub use append::{AppendOptions, append};
pub use create::{
    BlockSource, CreateOptions, DEFAULT_CHUNK_BYTES, convert, create, default_chunks,
};
pub use meta::{BloscCompressor, BloscShuffle, Compressor, ParseCompressorError, StoreInfo};
pub use source::{
    MAX_CHUNK_BYTES, MAX_CHUNKS_PER_SHARD, OpenOptions, ZarrSource, inspect, is_zarr, open,
    open_writable,
};
pub use staging::abandon_staged;
