//! Proptest strategies for the shared value types, used by the aggregates'
//! property tests (test builds only).

use proptest::option;
use proptest::prelude::*;

use crate::envelope::{Actor, Timestamp};
use crate::values::{ChannelId, ContentType, DocumentId, MessageId, Name, ProjectId, Sha256, UserId};

/// Id text: valid for every id type, and long enough to vary.
const ID: &str = "[a-zA-Z0-9._:-]{1,24}";

pub(crate) fn user_id() -> impl Strategy<Value = UserId> {
    ID.prop_filter_map("valid id", |s| UserId::parse(&s).ok())
}

pub(crate) fn document_id() -> impl Strategy<Value = DocumentId> {
    ID.prop_filter_map("valid id", |s| DocumentId::parse(&s).ok())
}

pub(crate) fn project_id() -> impl Strategy<Value = ProjectId> {
    ID.prop_filter_map("valid id", |s| ProjectId::parse(&s).ok())
}

pub(crate) fn channel_id() -> impl Strategy<Value = ChannelId> {
    ID.prop_filter_map("valid id", |s| ChannelId::parse(&s).ok())
}

pub(crate) fn message_id() -> impl Strategy<Value = MessageId> {
    ID.prop_filter_map("valid id", |s| MessageId::parse(&s).ok())
}

pub(crate) fn project_id_opt() -> impl Strategy<Value = Option<ProjectId>> {
    option::of(project_id())
}

/// Any Unicode text that [`Name`] accepts, including quotes and emoji.
pub(crate) fn name() -> impl Strategy<Value = Name> {
    "\\PC{1,40}".prop_filter_map("valid name", |s| Name::parse(&s).ok())
}

pub(crate) fn content_type() -> impl Strategy<Value = ContentType> {
    "(text|application|image)/[a-z0-9.+-]{1,16}(; charset=utf-8)?"
        .prop_filter_map("valid content type", |s| ContentType::parse(&s).ok())
}

pub(crate) fn sha256() -> impl Strategy<Value = Sha256> {
    "[0-9a-fA-F]{64}".prop_filter_map("valid sha256", |s| Sha256::parse(&s).ok())
}

pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
    any::<i64>().prop_map(Timestamp)
}

pub(crate) fn service_actor() -> impl Strategy<Value = Actor> {
    "[a-z-]{1,16}".prop_map(Actor::service)
}
