//! The query side: the reader's principals (their user and the channels
//! they are in), the permission-filtered query, paging and snippets.

use quire_domain::UserId;
use quire_projections::query::{Page, PageRequest, PageToken, QueryError};
use quire_projections::search::{SearchFilter, SearchHit};
use serde::{Deserialize, Serialize};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Searcher, TantivyDocument, Term};

use crate::error::query_unavailable;
use crate::index::Inner;
use crate::record::Record;
use crate::schema::LIVE;

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// How deep paging may go: hits past this many are not served (refine the
/// query instead), which bounds the work of one page.
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// Snippet length in characters.
const SNIPPET_CHARS: usize = 150;

/// The page token's cursor: how many hits earlier pages held.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    offset: usize,
}

impl Inner {
    pub(crate) fn search(
        &self,
        reader: &UserId,
        query: &str,
        filter: &SearchFilter,
        page: &PageRequest,
    ) -> Result<Page<SearchHit>, QueryError> {
        let size = page.size()?;
        let offset = page.cursor::<Cursor>()?.map_or(0, |c| c.offset);
        let limit = size.min(MAX_RESULT_WINDOW.saturating_sub(offset));
        if limit == 0 {
            return Err(QueryError::InvalidArgument(format!(
                "page_token goes past the first {MAX_RESULT_WINDOW} results; refine the query"
            )));
        }
        let user_query = self.parse(query)?;
        let searcher = self.reader.searcher();
        let principals = self.principals(&searcher, reader)?;
        let kinds = filter.effective_kinds().into_iter().map(|k| k.as_str());
        let filtered = BooleanQuery::new(vec![
            (Occur::Must, user_query.box_clone()),
            (Occur::Must, self.filter_on(self.fields.status, [LIVE])),
            (Occur::Must, self.filter_on(self.fields.kind, kinds)),
            (
                Occur::Must,
                self.filter_on(self.fields.readers, principals.iter().map(String::as_str)),
            ),
        ]);
        let top = searcher
            .search(
                &filtered,
                &TopDocs::with_limit(limit + 1).and_offset(offset).order_by_score(),
            )
            .map_err(|e| query_unavailable("search", e))?;
        let mut snippets = SnippetGenerator::create(&searcher, &*user_query, self.fields.body)
            .map_err(|e| query_unavailable("snippets", e))?;
        snippets.set_max_num_chars(SNIPPET_CHARS);

        let more = top.len() > limit;
        let mut items = Vec::with_capacity(limit);
        for (score, address) in top.into_iter().take(limit) {
            let doc: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| query_unavailable("read hit", e))?;
            let record =
                Record::from_document(&doc, &self.fields).map_err(|e| query_unavailable("read hit", e))?;
            let Some(entry) = record.into_entry() else {
                continue;
            };
            let snippet = snippets.snippet(&entry.body);
            let snippet = if snippet.highlighted().is_empty() {
                leading_text(&entry.body)
            } else {
                snippet.to_html()
            };
            items.push(SearchHit {
                kind: entry.kind(),
                id: entry.key.id().to_owned(),
                container: entry.container.as_ref().map(|c| c.id().to_owned()),
                title: entry.title,
                snippet,
                score,
            });
        }
        let next_page_token = (more && offset + limit < MAX_RESULT_WINDOW).then(|| {
            PageToken::encode(&Cursor {
                offset: offset + limit,
            })
        });
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Parses the user's query, or says why it is not one.
    fn parse(&self, query: &str) -> Result<Box<dyn Query>, QueryError> {
        if query.trim().is_empty() {
            return Err(QueryError::InvalidArgument("query is empty".to_owned()));
        }
        if query.len() > MAX_QUERY_BYTES {
            return Err(QueryError::InvalidArgument(format!(
                "query is {} bytes, more than the maximum of {MAX_QUERY_BYTES}",
                query.len()
            )));
        }
        self.parser
            .parse_query(query)
            .map_err(|e| QueryError::InvalidArgument(format!("query is malformed: {e}")))
    }

    /// `user:<reader>` and `channel:<id>` for every channel the reader is
    /// in, as of the last commit.
    fn principals(&self, searcher: &Searcher, reader: &UserId) -> Result<Vec<String>, QueryError> {
        let mut principals = vec![format!("user:{reader}")];
        let memberships = TermQuery::new(
            Term::from_field_text(self.fields.member, reader.as_str()),
            IndexRecordOption::Basic,
        );
        let addresses = searcher
            .search(&memberships, &DocSetCollector)
            .map_err(|e| query_unavailable("read memberships", e))?;
        for address in addresses {
            let doc: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| query_unavailable("read membership", e))?;
            if let Record::Member {
                channel,
                member: true,
                ..
            } = Record::from_document(&doc, &self.fields)
                .map_err(|e| query_unavailable("read membership", e))?
            {
                principals.push(format!("channel:{channel}"));
            }
        }
        Ok(principals)
    }

    /// A non-scoring filter: `field` holds one of `values`.
    fn filter_on<'a>(&self, field: Field, values: impl IntoIterator<Item = &'a str>) -> Box<dyn Query> {
        let terms = values.into_iter().map(|v| Term::from_field_text(field, v));
        Box::new(ConstScoreQuery::new(Box::new(TermSetQuery::new(terms)), 0.0))
    }
}

/// The first characters of `text`, HTML-escaped like highlighted snippets.
fn leading_text(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.trim().chars();
    for c in chars.by_ref().take(SNIPPET_CHARS) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_text_is_short_and_escaped() {
        assert_eq!(leading_text("  a <b> & c "), "a &lt;b&gt; &amp; c");
        let long = "x".repeat(SNIPPET_CHARS + 10);
        let cut = leading_text(&long);
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
