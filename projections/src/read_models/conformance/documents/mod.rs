//! The [`DocumentQueries`] cases. Each takes a fresh fixture; the
//! `document_queries_conformance!` macro makes one test of each.
//!
//! - `visibility` — owners, shares, strangers, attachment checks.
//! - `lifecycle` — uploads, versions, renames, moves, deletes, restores.
//! - `lists` — list order, filters and paging.
//! - `projects` — project visibility, listing, moves and ancestors.
//! - `replay` — redelivery and reset.
//!
//! [`DocumentQueries`]: crate::read_models::documents::DocumentQueries

mod lifecycle;
mod lists;
mod projects;
mod replay;
mod visibility;

pub use lifecycle::*;
pub use lists::*;
pub use projects::*;
pub use replay::*;
pub use visibility::*;

use quire_domain::{DocumentId, UserId};

use super::DocumentsFixture;
use crate::query::{PageRequest, QueryError};
use crate::read_models::documents::{DocumentFilter, DocumentView};

/// The reader's document, which must be visible.
async fn get(fx: &DocumentsFixture, reader: &str, doc: &str) -> DocumentView {
    match fx
        .queries
        .get_document(&super::world::uid(reader), &super::world::doc_id(doc))
        .await
    {
        Ok(view) => view,
        Err(error) => panic!("{reader} cannot get {doc}: {error}"),
    }
}

/// The ids of every document listed for `reader` with `filter`, following
/// page tokens with pages of `page_size`.
async fn list_all(
    fx: &DocumentsFixture,
    reader: &UserId,
    filter: DocumentFilter,
    page_size: u32,
) -> Vec<DocumentId> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = fx
            .queries
            .list_documents(
                reader,
                filter.clone(),
                PageRequest {
                    page_size,
                    page_token: token,
                },
            )
            .await
            .expect("list documents");
        assert!(page.items.len() <= page_size as usize, "page larger than asked");
        ids.extend(page.items.into_iter().map(|d| d.id));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => return ids,
        }
    }
}

/// The ids listed for `reader` with `filter`, in one page of the largest
/// size.
async fn listed(fx: &DocumentsFixture, reader: &str, filter: DocumentFilter) -> Vec<String> {
    list_all(
        fx,
        &super::world::uid(reader),
        filter,
        crate::query::MAX_PAGE_SIZE,
    )
    .await
    .into_iter()
    .map(|id| id.to_string())
    .collect()
}

/// Every live document of any project the reader can see.
fn everything() -> DocumentFilter {
    DocumentFilter::default()
}

/// Whether the outcome is a `NotFound`.
fn is_not_found<T>(outcome: &Result<T, QueryError>) -> bool {
    matches!(outcome, Err(QueryError::NotFound(_)))
}
