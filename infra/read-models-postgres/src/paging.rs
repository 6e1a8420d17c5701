//! Cursor paging shared by both read models: a list statement fetches one
//! row more than the page, so the last page carries no token.

use quire_projections::query::{Page, PageToken, QueryError};
use serde::Serialize;

/// How many rows a list statement fetches for a page of `size`.
pub(crate) fn fetch_limit(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1)
}

/// Builds a page from at most `size + 1` rows in list order: the extra row
/// only tells that another page exists, and the token names the page's
/// last row through `cursor`.
pub(crate) fn page_of<R, V, C: Serialize>(
    mut rows: Vec<R>,
    size: usize,
    cursor: impl Fn(&R) -> C,
    view: impl FnMut(R) -> Result<V, QueryError>,
) -> Result<Page<V>, QueryError> {
    let more = rows.len() > size;
    rows.truncate(size);
    let token = if more {
        rows.last().map(|row| PageToken::encode(&cursor(row)))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(view)
        .collect::<Result<Vec<V>, QueryError>>()?;
    Ok(Page {
        items,
        next_page_token: token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_page_with_more_rows_has_a_token() {
        let page = page_of(vec![1, 2, 3], 2, |r| *r, Ok).unwrap();
        assert_eq!(page.items, [1, 2]);
        assert_eq!(PageToken::decode::<i32>(&page.next_page_token.unwrap()), Ok(2));
        assert_eq!(
            page_of(vec![1, 2], 2, |r| *r, Ok).unwrap(),
            Page::last(vec![1, 2])
        );
        assert_eq!(fetch_limit(50), 51);
    }
}
