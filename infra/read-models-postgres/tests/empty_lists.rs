//! How a message's mentions and attachments are stored (migration 0005):
//! an empty list as NULL, a non-empty one as an array, and rows written
//! before 0005 (an empty list as `'{}'`) still read as the empty list.

mod common;

use quire_projections::Projector;
use quire_projections::read_models::channels::ChannelQueries;
use quire_projections::read_models::conformance::World;
use quire_projections::read_models::conformance::world::{cid, mid, uid};
use quire_read_models_postgres::{PgChannels, PgStore};

use common::fresh_store;

/// Stored form of the `mentions` and `attachments` of `message`: whether
/// each is NULL.
async fn nulls(store: &PgStore, message: &str) -> (bool, bool) {
    sqlx::query_as("SELECT mentions IS NULL, attachments IS NULL FROM messages WHERE id = $1")
        .bind(mid(message).as_str())
        .fetch_one(store.pool())
        .await
        .expect("read the stored row")
}

/// A group where `plain` has neither mentions nor attachments and
/// `mentioning` mentions bob, applied to a fresh schema.
async fn applied() -> (PgChannels, common::Schema) {
    let (store, schema) = fresh_store().await;
    let model = PgChannels::new(store);
    let mut world = World::new();
    world.group("ann", "g", "general", &["bob"]);
    world.send("ann", "g", "plain");
    world.send_with("ann", "g", "mentioning", None, &["bob"], &[]);
    world.sync(&model as &dyn Projector).await;
    (model, schema)
}

#[tokio::test]
async fn an_empty_list_is_stored_as_null_and_a_full_one_as_an_array() {
    let (model, _schema) = applied().await;
    assert_eq!(nulls(model.store(), "plain").await, (true, true));
    assert_eq!(nulls(model.store(), "mentioning").await, (false, true));
    let read = model
        .get_message(&uid("bob"), &cid("g"), &mid("mentioning"))
        .await
        .expect("get the message");
    assert_eq!(read.mentions, vec![uid("bob")]);
    assert!(read.attachments.is_empty());
}

#[tokio::test]
async fn an_empty_array_written_before_0005_reads_as_the_empty_list() {
    let (model, _schema) = applied().await;
    sqlx::query("UPDATE messages SET mentions = '{}', attachments = '{}' WHERE id = $1")
        .bind(mid("plain").as_str())
        .execute(model.store().pool())
        .await
        .expect("store the old form");
    assert_eq!(nulls(model.store(), "plain").await, (false, false));
    let read = model
        .get_message(&uid("bob"), &cid("g"), &mid("plain"))
        .await
        .expect("get the message");
    assert!(read.mentions.is_empty() && read.attachments.is_empty());
}
