//! Quire's gRPC API, package `quire.v1`: the generated messages, clients and
//! servers, and the encoded descriptor set for gRPC reflection.
//!
//! Only the edges (`gateways`) use these types; they are converted to domain
//! types at the boundary, never used as them.

#![allow(clippy::all, missing_debug_implementations, unreachable_pub)]

/// The `quire.v1` package.
pub mod v1 {
    tonic::include_proto!("quire.v1");
}

/// The encoded `FileDescriptorSet` of every Quire proto file.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/quire_descriptor.bin"));
