//! The query side, two statements per page on one connection: the
//! reader's principals (their user and the channels they are in now), then
//! one statement that matches the translated query against the `tsvector`
//! among the entries those principals may read, ranks, pages by keyset and
//! builds the page's snippets.
//!
//! - **Plans**: the principals are resolved first, and the index's
//!   connections plan every statement for its actual parameters
//!   (`plan_cache_mode = force_custom_plan`), so the planner sees how many
//!   entries the principals and the words each select and drives the
//!   search from the narrower GIN index (a common word for a reader of a
//!   few channels starts from the readers; a rare word from the text).
//! - **Rank**: `ts_rank(tsv, query, 1)`: matches in the title (weight A,
//!   1.0) count 2.5 times those in the body (B, 0.4), and the rank is
//!   divided by `1 + log(length)`, so long texts do not win by size alone.
//! - **Paging**: best first, ties by entry key; a page token holds the
//!   last hit's exact score (its `f32` bits) and key, and the next page
//!   starts strictly after that pair. Every match is ranked on every page
//!   (PostgreSQL has no index order for a rank), but no page reads more
//!   than its own rows, however deep.
//! - **Snippets**: `ts_headline` over the body's first [`HEADLINE_CHARS`]
//!   characters, computed for the page's rows only, with private-use
//!   characters as highlight markers that the body cannot contribute
//!   (they are blanked in its copy), so the rest can be HTML-escaped and
//!   the markers turned into `<b>`/`</b>`. When nothing in the body
//!   matched (a title match), the body's first [`SNIPPET_CHARS`]
//!   characters. `ts_headline` leaves out what its parser reads as an
//!   HTML tag (`<br>`), as it does when indexing.

use quire_domain::UserId;
use quire_projections::query::{Page, PageRequest, PageToken, QueryError};
use quire_projections::search::{SearchFilter, SearchHit, SearchKind};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::error::query_error;
use crate::index::PgSearchIndex;
use crate::syntax;

/// Snippet length of the fallback (the body's start), in characters.
pub const SNIPPET_CHARS: usize = 150;
/// How much of a body `ts_headline` reads, in characters.
pub const HEADLINE_CHARS: i32 = 65_536;
/// Highlight markers: private-use characters.
const START: char = '\u{E000}';
const STOP: char = '\u{E001}';
/// `ts_headline` options: about 25 words around the best match.
const HEADLINE_OPTIONS: &str = "StartSel=\u{E000}, StopSel=\u{E001}, MaxWords=24, MinWords=12";
/// The markers, blanked in the body before `ts_headline` reads it.
const MARKERS: &str = "\u{E000}\u{E001}";

/// The page token's cursor: the last hit's score (as bits, so it round-
/// trips exactly) and key.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    score: u32,
    key: String,
}

/// One row of a page, as the statement returns it.
#[derive(Debug)]
struct HitRow {
    kind: String,
    id: String,
    container: Option<String>,
    title: String,
    key: String,
    score: f32,
    headline: String,
    lead: String,
}

/// What one page's statement needs.
#[derive(Debug)]
struct PageQuery {
    tsquery: String,
    kinds: Vec<String>,
    principals: Vec<String>,
    after: Option<Cursor>,
    /// Rows to fetch: the page and one more, which tells there is a next.
    limit: i64,
}

impl PgSearchIndex {
    pub(crate) async fn query(
        &self,
        reader: &UserId,
        query: &str,
        filter: &SearchFilter,
        page: &PageRequest,
    ) -> Result<Page<SearchHit>, QueryError> {
        let size = page.size()?;
        let after = page.cursor::<Cursor>()?;
        let tsquery = syntax::to_tsquery(query)?;
        let kinds = filter
            .effective_kinds()
            .into_iter()
            .map(|k| k.as_str().to_owned())
            .collect();
        let mut conn = self
            .inner
            .pool
            .acquire()
            .await
            .map_err(|e| query_error("search", e))?;
        let principals = principals(&mut conn, reader).await?;
        let limit = i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1);
        let query = PageQuery {
            tsquery,
            kinds,
            principals,
            after,
            limit,
        };
        let rows = fetch_page(&mut conn, query).await?;
        page_of(rows, size)
    }
}

/// `user:<reader>` and `channel:<id>` for every channel the reader is in
/// now. A statement of its own, so that the page's statement is planned
/// with the actual principals: the planner then drives the search from
/// the readers' index or the text index, whichever is more selective.
async fn principals(conn: &mut PgConnection, reader: &UserId) -> Result<Vec<String>, QueryError> {
    let channels = sqlx::query_scalar!(
        r#"SELECT 'channel:' || channel AS "principal!" FROM members WHERE user_id = $1 AND member"#,
        reader.as_str()
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| query_error("read memberships", e))?;
    let mut principals = Vec::with_capacity(channels.len() + 1);
    principals.push(format!("user:{reader}"));
    principals.extend(channels);
    Ok(principals)
}

/// The page's rows, best first; headlines only for them (the fenced
/// subquery ranks every match once, the outer one headlines the page).
async fn fetch_page(conn: &mut PgConnection, query: PageQuery) -> Result<Vec<HitRow>, QueryError> {
    let (after_score, after_key) = match query.after {
        Some(c) => (Some(f32::from_bits(c.score)), Some(c.key)),
        None => (None, None),
    };
    sqlx::query_as!(
        HitRow,
        r#"SELECT page.kind AS "kind!", page.id AS "id!", page.container, page.title AS "title!",
                  page.key AS "key!", page.score AS "score!",
                  ts_headline('simple'::regconfig, translate(left(page.body, $7), $9, '  '),
                              page.query, $8) AS "headline!",
                  left(page.body, 400) AS "lead!"
           FROM (
               SELECT hit.* FROM (
                   SELECT e.key, e.kind, e.id, e.container, e.title, e.body, q.query,
                          ts_rank(e.tsv, q.query, 1) AS score
                   FROM to_tsquery('simple'::regconfig, $1) AS q(query)
                   JOIN entries e ON e.tsv @@ q.query
                   WHERE NOT e.hidden AND e.kind = ANY($2::text[]) AND e.readers && $3::text[]
                   OFFSET 0
               ) AS hit
               WHERE $4::real IS NULL OR (-hit.score, hit.key) > (-$4::real, $5::text)
               ORDER BY hit.score DESC, hit.key
               LIMIT $6
           ) AS page
           ORDER BY page.score DESC, page.key"#,
        query.tsquery,
        &query.kinds,
        &query.principals,
        after_score,
        after_key,
        query.limit,
        HEADLINE_CHARS,
        HEADLINE_OPTIONS,
        MARKERS
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| query_error("search", e))
}

/// Builds the page from at most `size + 1` rows; the token names the last
/// hit of a page that has a next one.
fn page_of(rows: Vec<HitRow>, size: usize) -> Result<Page<SearchHit>, QueryError> {
    let more = rows.len() > size;
    let mut items = Vec::with_capacity(size);
    let mut last = None;
    for row in rows.into_iter().take(size) {
        let kind = SearchKind::parse(&row.kind)
            .ok_or_else(|| QueryError::Unavailable(format!("search index holds kind {:?}", row.kind)))?;
        items.push(SearchHit {
            kind,
            id: row.id,
            container: row.container,
            title: row.title,
            snippet: snippet(&row.headline, &row.lead),
            score: row.score,
        });
        last = Some((row.score, row.key));
    }
    let next_page_token = last.filter(|_| more).map(|(score, key)| {
        PageToken::encode(&Cursor {
            score: score.to_bits(),
            key,
        })
    });
    Ok(Page {
        items,
        next_page_token,
    })
}

/// The highlighted headline, escaped, or the body's start when nothing in
/// it is highlighted.
fn snippet(headline: &str, lead: &str) -> String {
    if !headline.contains(START) {
        return leading_text(lead);
    }
    let mut out = String::with_capacity(headline.len() + 16);
    for c in headline.trim().chars() {
        match c {
            START => out.push_str("<b>"),
            STOP => out.push_str("</b>"),
            c => escape_into(c, &mut out),
        }
    }
    out
}

/// The first [`SNIPPET_CHARS`] characters of `text`, escaped, with `…`
/// when cut.
fn leading_text(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.trim().chars();
    for c in chars.by_ref().take(SNIPPET_CHARS) {
        escape_into(c, &mut out);
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn escape_into(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#x27;"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_are_escaped_around_their_markers() {
        let headline = format!(" {START}dinner{STOP} at <8> & \"more\" ");
        assert_eq!(
            snippet(&headline, "unused"),
            "<b>dinner</b> at &lt;8&gt; &amp; &quot;more&quot;"
        );
    }

    #[test]
    fn without_a_highlight_the_body_start_is_shown() {
        assert_eq!(snippet("a <b> & c", "  a <b> & c "), "a &lt;b&gt; &amp; c");
        let long = "x".repeat(SNIPPET_CHARS + 10);
        let cut = snippet(&long, &long);
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn cursors_keep_the_exact_score() {
        let score = 0.060_793_87_f32;
        let token = PageToken::encode(&Cursor {
            score: score.to_bits(),
            key: "message c m1".to_owned(),
        });
        let cursor: Cursor = PageToken::decode(&token).unwrap();
        assert_eq!(f32::from_bits(cursor.score), score);
    }
}
