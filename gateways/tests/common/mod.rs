//! Helpers shared by the gateway's integration tests (each test file
//! uses some of them).
#![allow(dead_code)]

use quire_proto::v1;
use sha2::{Digest, Sha256};

/// Read options that wait for the read model to reach `position`.
pub fn read_at(position: u64) -> Option<v1::ReadOptions> {
    Some(v1::ReadOptions {
        min_position: position,
    })
}

/// A request to upload `content` as a Markdown document named `name`.
pub fn upload_request(name: &str, content: &[u8]) -> v1::RequestUploadRequest {
    v1::RequestUploadRequest {
        command_id: String::new(),
        name: name.to_owned(),
        content_type: "text/markdown".to_owned(),
        size: content.len() as u64,
        sha256: format!("{:x}", Sha256::digest(content)),
        project_id: String::new(),
    }
}

/// PUTs `content` to a signed upload URL, whatever the answer.
pub async fn put(url: &str, content: &[u8]) -> reqwest::Response {
    reqwest::Client::new()
        .put(url)
        .body(content.to_vec())
        .send()
        .await
        .expect("put")
}

/// PUTs `content` to a signed upload URL; returns the completion's
/// position.
pub async fn put_upload(url: &str, content: &[u8]) -> u64 {
    let response = put(url, content).await;
    assert!(
        response.status().is_success(),
        "upload failed: {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await.expect("json");
    body["position"].as_u64().expect("position")
}
