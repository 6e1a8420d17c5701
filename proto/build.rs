//! Compiles `quire/v1/*.proto` with protox (pure Rust: no `protoc` needed)
//! and writes the descriptor set that the reflection service serves.

use std::path::PathBuf;

use prost::Message;

const FILES: &[&str] = &[
    "quire/v1/common.proto",
    "quire/v1/documents.proto",
    "quire/v1/projects.proto",
    "quire/v1/channels.proto",
    "quire/v1/search.proto",
    "quire/v1/events.proto",
    "quire/v1/admin.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for file in FILES {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(FILES, ["."])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("quire_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
