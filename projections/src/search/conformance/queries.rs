//! Query cases: paging, kind filters, snippets, and malformed input.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::fixture::{Harness, user};
use crate::query::{MAX_PAGE_SIZE, PageRequest, QueryError};
use crate::search::{SearchFilter, SearchIndex, SearchKind};

/// Pages cover every hit exactly once, in score order, and end with no
/// token; foreign or malformed page requests are refused by field.
pub async fn paging(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(Arc::clone(&index));
    h.group("ch", "ann", &["ann"]).await;
    let mut batch = Vec::new();
    for n in 0..25 {
        let body = format!("plover sighting number {n}");
        batch.push(h.send_event("ch", &format!("m{n:02}"), "ann", &body));
    }
    h.apply(&batch).await;

    let ann = user("ann");
    let filter = SearchFilter::all();
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut request = PageRequest::first(10);
    loop {
        let page = index
            .search(&ann, "plover", &filter, &request)
            .await
            .expect("search page");
        sizes.push(page.items.len());
        for pair in page.items.windows(2) {
            assert!(pair[0].score >= pair[1].score, "best first within a page");
        }
        seen.extend(page.items.into_iter().map(|hit| hit.id));
        match page.next_page_token {
            Some(token) => request.page_token = Some(token),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 25, "no hit twice, none missing: {seen:?}");

    let exact = index
        .search(&ann, "plover", &filter, &PageRequest::first(25))
        .await
        .expect("search");
    assert_eq!(exact.items.len(), 25);
    assert_eq!(exact.next_page_token, None, "a full last page has no next token");

    let bad_token = PageRequest {
        page_size: 10,
        page_token: Some("not-a-token".to_owned()),
    };
    let error = index
        .search(&ann, "plover", &filter, &bad_token)
        .await
        .expect_err("bad token");
    assert!(
        matches!(&error, QueryError::InvalidArgument(m) if m.contains("page_token")),
        "{error:?}"
    );
    let too_big = PageRequest::first(MAX_PAGE_SIZE + 1);
    let error = index
        .search(&ann, "plover", &filter, &too_big)
        .await
        .expect_err("page too big");
    assert!(
        matches!(&error, QueryError::InvalidArgument(m) if m.contains("page_size")),
        "{error:?}"
    );
}

/// Malformed or empty queries are invalid arguments naming `query`.
pub async fn bad_queries(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.upload("d1", "ann", "Grebe report").await;
    for query in ["(grebe", "title:\"grebe", "nosuchfield:grebe", "", "   "] {
        let error = h.search_error("ann", query).await;
        assert!(
            matches!(&error, QueryError::InvalidArgument(m) if m.contains("query")),
            "query {query:?} gave {error:?}"
        );
    }
    assert_eq!(
        h.ids("ann", "grebe AND report").await,
        ["d1"],
        "valid syntax still works"
    );
    assert!(h.ids("ann", "grebe -report").await.is_empty(), "exclusion");
    assert_eq!(h.ids("ann", "\"grebe report\"").await, ["d1"], "phrase");
}

/// The kind filter narrows results; snippets fall back to the body's
/// start when only the title matches.
pub async fn kinds_and_snippets(index: Arc<dyn SearchIndex>) {
    let mut h = Harness::new(index);
    h.upload("d1", "ann", "Swift migration").await;
    h.extract(
        "d1",
        &format!("Notes from the coast. {}", "More words here. ".repeat(30)),
    )
    .await;
    h.group("ch", "ann", &["ann"]).await;
    h.send("ch", "m1", "ann", "a swift flew by").await;

    let documents = h
        .search_in("ann", "swift", &SearchFilter::kinds([SearchKind::Document]))
        .await;
    assert_eq!(
        documents.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["d1"]
    );
    let messages = h
        .search_in("ann", "swift", &SearchFilter::kinds([SearchKind::Message]))
        .await;
    assert_eq!(messages.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["m1"]);
    assert_eq!(h.search("ann", "swift").await.len(), 2);

    let snippet = &documents[0].snippet;
    assert!(
        snippet.starts_with("Notes from the coast."),
        "fallback snippet: {snippet}"
    );
    assert!(
        snippet.chars().count() <= 200,
        "snippets are short: {} chars",
        snippet.chars().count()
    );
}
