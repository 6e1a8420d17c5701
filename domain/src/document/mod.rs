//! The document aggregate: a file with versions, a name, a project, shares,
//! and a soft-deleted flag.
//!
//! Rules in brief:
//! - Upload is two steps: `RequestUpload` declares size and sha256 and
//!   creates the document (the actor becomes its owner); `CompleteUpload`
//!   carries what the blob store measured, which must equal the declaration.
//!   It completes once.
//! - New versions follow the same two steps: `RequestNewVersion` declares the
//!   content and the number it will get (completed versions + 1);
//!   `CompleteVersion` names that number and carries the measure. A newer
//!   request replaces a pending one, so an abandoned upload blocks nothing;
//!   completing the replaced request is rejected.
//! - The owner shares, unshares, moves, deletes and restores; editors (and the
//!   owner) rename and upload versions; viewers only read
//!   ([`Document::access_of`]).
//! - A deleted document rejects every change except `Restore` (and the
//!   idempotent `DeleteWithProject` and `RecordExtractedText`, which only a
//!   service may issue).
//! - `RecordExtractedText` (a service only) records the plain text of a
//!   completed version for search, cut to 1 MiB at a character boundary
//!   (`truncated: true` then). It is accepted on a deleted document: search
//!   hides deleted documents by their flag, and a restore needs no new
//!   extraction.
//! - Commands that would change nothing (rename to the same name, share with
//!   the same role, unshare a stranger, move to the same project) are
//!   accepted with no events.

mod commands;
mod decide;
mod errors;
mod events;
mod state;
#[cfg(test)]
mod tests;

pub use commands::*;
pub use errors::DocumentError;
pub use events::*;
pub use state::{Access, Document, ShareRole};

use crate::aggregate::Aggregate;
use crate::values::Issued;

impl Aggregate for Document {
    const CATEGORY: &'static str = "document";
    type Command = Issued<DocumentCommand>;
    type Event = DocumentEvent;
    type Error = DocumentError;

    fn decide(&self, command: &Self::Command) -> Result<Vec<DocumentEvent>, DocumentError> {
        decide::decide(self, command)
    }

    fn apply(&mut self, event: &DocumentEvent) {
        self.apply_event(event);
    }
}
