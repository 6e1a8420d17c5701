//! Cursor paging shared by the in-memory backends: take one page from an
//! iterator already positioned after the request's cursor, and issue a token
//! for the next page only when more rows follow.

use serde::Serialize;

use crate::query::{Page, PageToken, QueryError};

/// Builds a page of at most `size` views from `rows`, which must yield rows
/// in list order starting right after the request's cursor.
///
/// One row past the page is looked at to tell whether another page exists,
/// so the last page carries no token. `cursor` names a row for the token
/// (the last row of the page); `view` turns a row into what the caller gets.
pub(crate) fn page_of<R, V, C: Serialize>(
    rows: impl Iterator<Item = R>,
    size: usize,
    cursor: impl Fn(&R) -> C,
    mut view: impl FnMut(&R) -> Result<V, QueryError>,
) -> Result<Page<V>, QueryError> {
    let mut items = Vec::with_capacity(size.min(64));
    let mut last: Option<C> = None;
    for row in rows {
        if items.len() == size {
            return Ok(Page {
                items,
                next_page_token: last.as_ref().map(PageToken::encode),
            });
        }
        items.push(view(&row)?);
        last = Some(cursor(&row));
    }
    Ok(Page::last(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(rows: &[u32], size: usize) -> Page<u32> {
        page_of(rows.iter().copied(), size, |r| *r, |r| Ok(*r)).unwrap()
    }

    #[test]
    fn the_last_page_has_no_token() {
        assert_eq!(page(&[1, 2, 3], 3), Page::last(vec![1, 2, 3]));
        assert_eq!(page(&[], 3), Page::last(vec![]));
        let first = page(&[1, 2, 3, 4], 3);
        assert_eq!(first.items, vec![1, 2, 3]);
        let token = first.next_page_token.unwrap();
        assert_eq!(PageToken::decode::<u32>(&token), Ok(3));
    }
}
