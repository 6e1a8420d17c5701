//! `quire search <query>`.

use quire_proto::v1;
use quire_proto::v1::search_service_client::SearchServiceClient;
use serde_json::json;

use super::connection::{Connection, describe};
use super::output::emit;

pub async fn run(connection: Connection, query: String, limit: u32) -> anyhow::Result<()> {
    let mut search =
        SearchServiceClient::with_interceptor(connection.channel.clone(), connection.bearer.clone());
    let request = v1::SearchRequest {
        query,
        kinds: Vec::new(),
        page: Some(v1::PageRequest {
            page_size: limit,
            page_token: String::new(),
        }),
        read: None,
    };
    let results = search.search(request).await.map_err(describe)?.into_inner();
    for hit in results.hits {
        let kind = if hit.kind == v1::SearchKind::Message as i32 {
            "message"
        } else {
            "document"
        };
        emit(
            connection.json,
            json!({"kind": kind, "id": hit.id, "container_id": hit.container_id, "title": hit.title, "snippet": hit.snippet, "score": hit.score}),
            || {
                let label = if hit.title.is_empty() {
                    format!("in {}", hit.container_id)
                } else {
                    hit.title.clone()
                };
                format!(
                    "{kind:<8} {}  {label}\n         {}",
                    hit.id,
                    hit.snippet.replace('\n', " ")
                )
            },
        );
    }
    Ok(())
}
