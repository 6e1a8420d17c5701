//! `SearchService`: one query over documents and messages, filtered by what
//! the caller may see.

use std::sync::Arc;

use quire_projections::search::{SearchFilter, SearchKind};
use quire_proto::v1;
use quire_proto::v1::search_service_server::SearchService;
use tonic::{Request, Response, Status};

use crate::app::{App, ReadModel};
use crate::auth::caller;
use crate::grpc::convert::{page_request, read_options};
use crate::grpc::status::{from_query, invalid};

#[derive(Debug)]
pub struct SearchApi {
    pub app: Arc<App>,
}

fn kind_to_proto(kind: SearchKind) -> i32 {
    match kind {
        SearchKind::Document => v1::SearchKind::Document as i32,
        SearchKind::Message => v1::SearchKind::Message as i32,
    }
}

#[tonic::async_trait]
impl SearchService for SearchApi {
    async fn search(
        &self,
        request: Request<v1::SearchRequest>,
    ) -> Result<Response<v1::SearchResponse>, Status> {
        let reader = caller(&request)?.user;
        let r = request.into_inner();
        self.app
            .wait_for(ReadModel::Search, read_options(&r.read))
            .await?;
        let mut filter = SearchFilter::default();
        for kind in &r.kinds {
            match v1::SearchKind::try_from(*kind) {
                Ok(v1::SearchKind::Document) => filter.kinds.insert(SearchKind::Document),
                Ok(v1::SearchKind::Message) => filter.kinds.insert(SearchKind::Message),
                _ => return Err(invalid("kinds", format!("{kind} is not a search kind"))),
            };
        }
        let page = self
            .app
            .search
            .search(&reader, &r.query, &filter, &page_request(&r.page))
            .await
            .map_err(from_query)?;
        Ok(Response::new(v1::SearchResponse {
            hits: page
                .items
                .iter()
                .map(|hit| v1::SearchHit {
                    kind: kind_to_proto(hit.kind),
                    id: hit.id.clone(),
                    container_id: hit.container.clone().unwrap_or_default(),
                    title: hit.title.clone(),
                    snippet: hit.snippet.clone(),
                    score: hit.score,
                })
                .collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }
}
