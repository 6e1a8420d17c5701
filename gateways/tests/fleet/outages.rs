//! Outages while running: with the event log, the relational read models
//! or Redis gone, requests fail with `Unavailable`; when the service is
//! back the fleet recovers by itself and nothing acknowledged is lost.

use std::future::Future;
use std::time::{Duration, Instant};

use quire_proto::v1;
use tonic::transport::Channel;

use crate::common::read_at;
use crate::harness::{Fleet, channels, create_channel, listed_unread_counts, send_in, unread_counts};
use crate::link::Link;
use quire_test_servers::PrivateServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_fails_calls_as_unavailable_and_the_fleet_recovers() {
    let mut nats = PrivateServer::nats();
    let mut fleet = Fleet::new();
    fleet.nats = nats.url();
    let gateway = fleet.start_projector_and_gateway().await;
    let (room, _) = create_channel(&gateway, "ops").await;
    let mut alice = channels(&gateway, "alice");
    send_in(&mut alice, &room, "before the outage")
        .await
        .expect("send");

    nats.kill();
    let error = send_in(&mut alice, &room, "during the outage")
        .await
        .expect_err("no event log");
    assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");

    nats.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    let position = loop {
        match send_in(&mut alice, &room, "after the outage").await {
            Ok(position) => break position,
            Err(error) => {
                assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");
                assert!(Instant::now() < deadline, "the gateway never recovered: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    // The projector gets its lease back and catches up; reads see it all.
    let deadline = Instant::now() + Duration::from_secs(30);
    let bodies = loop {
        let listed = channels(&gateway, "bob")
            .list_messages(v1::ListMessagesRequest {
                channel_id: room.clone(),
                read: read_at(position),
                ..Default::default()
            })
            .await;
        match listed {
            Ok(listed) => {
                break listed
                    .into_inner()
                    .messages
                    .into_iter()
                    .map(|m| m.body)
                    .collect::<Vec<_>>();
            }
            Err(error) => {
                assert!(Instant::now() < deadline, "reads never recovered: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert!(bodies.contains(&"before the outage".to_owned()), "{bodies:?}");
    assert!(bodies.contains(&"after the outage".to_owned()), "{bodies:?}");
    fleet.stop().await;
}

/// Keeps an outage going for longer than the projectors' retries of a
/// failing event last (5 attempts, 1.5 s of backoff by default), so that a
/// store outage taken for the events' fault would dead-letter them.
async fn outlast_event_retries() {
    tokio::time::sleep(Duration::from_secs(4)).await;
}

/// Retries `attempt` every 200 ms until it gives `Ok` that `done` accepts,
/// failing after 60 s with the last result.
async fn eventually<T: std::fmt::Debug, F: Future<Output = Result<T, tonic::Status>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let result = attempt().await;
        match result {
            Ok(value) if done(&value) => return value,
            other => assert!(Instant::now() < deadline, "{what} never happened: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The bodies of a channel's messages, oldest first, as `user` lists them
/// once the read model has reached `position`.
async fn bodies(gateway: &Channel, room: &str, position: u64) -> Result<Vec<String>, tonic::Status> {
    let listed = channels(gateway, "bob")
        .list_messages(v1::ListMessagesRequest {
            channel_id: room.to_owned(),
            read: read_at(position),
            page: Some(v1::PageRequest {
                page_size: 500,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await?;
    // Listed newest first.
    Ok(listed
        .into_inner()
        .messages
        .into_iter()
        .rev()
        .map(|m| m.body)
        .collect())
}

/// Bob's unread counts: from Redis (`GetUnreadCounts`), and from the
/// relational read model (`ListChannels`).
async fn bobs_counts(
    gateway: &Channel,
    position: u64,
) -> Result<(Vec<(String, u64)>, Vec<(String, u64)>), tonic::Status> {
    let counters = unread_counts(gateway, "bob", position).await?;
    let listed = listed_unread_counts(gateway, "bob", position).await?;
    Ok((counters, listed))
}

/// Alice sends `<what> <n>` for each `n` of `range`, each acknowledged,
/// adds the bodies to `sent`, and returns the position of the last.
async fn send_acknowledged(
    gateway: &Channel,
    room: &str,
    what: &str,
    range: std::ops::Range<usize>,
    sent: &mut Vec<String>,
) -> u64 {
    let mut alice = channels(gateway, "alice");
    let mut position = 0;
    for n in range {
        let body = format!("{what} {n}");
        position = send_in(&mut alice, room, &body)
            .await
            .unwrap_or_else(|error| panic!("{body}: {error}"));
        sent.push(body);
    }
    position
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_fails_reads_as_unavailable_and_loses_no_acknowledged_message() {
    // The machine's PostgreSQL serves every suite: the fleet reaches it
    // through a link this test cuts.
    let link = Link::start("127.0.0.1:5432").await;
    let mut fleet = Fleet::new();
    fleet.postgres = format!("postgres://postgres@{}/test", link.address());
    let gateway = fleet.start_projector_and_gateway().await;
    let (room, _) = create_channel(&gateway, "ops").await;
    let mut sent = Vec::new();
    let position = send_acknowledged(&gateway, &room, "before", 0..5, &mut sent).await;
    assert_eq!(bodies(&gateway, &room, position).await.expect("list"), sent);

    link.cut();
    let error = bodies(&gateway, &room, 0).await.expect_err("no read model");
    assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");
    // Commands need only the event log: they are still acknowledged, and
    // the projector retries its batch until PostgreSQL is back.
    let position = send_acknowledged(&gateway, &room, "during", 0..20, &mut sent).await;
    outlast_event_retries().await;
    let error = bodies(&gateway, &room, 0).await.expect_err("still no read model");
    assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");

    link.restore();
    let listed = eventually(
        "reading every acknowledged message",
        || bodies(&gateway, &room, position),
        |listed| listed.len() == sent.len(),
    )
    .await;
    assert_eq!(listed, sent);
    let position = send_acknowledged(&gateway, &room, "after", 0..5, &mut sent).await;
    assert_eq!(bodies(&gateway, &room, position).await.expect("list"), sent);
    let (_, listed) = bobs_counts(&gateway, position).await.expect("counts");
    assert_eq!(listed, [(room.clone(), sent.len() as u64)]);
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_fails_counts_as_unavailable_and_the_projector_rebuilds_them() {
    let mut redis = PrivateServer::redis();
    let mut fleet = Fleet::new();
    fleet.redis = redis.url();
    let gateway = fleet.start_projector_and_gateway().await;
    let (room, _) = create_channel(&gateway, "ops").await;
    let mut sent = Vec::new();
    let position = send_acknowledged(&gateway, &room, "before", 0..5, &mut sent).await;
    let (counters, listed) = bobs_counts(&gateway, position).await.expect("counts");
    assert_eq!(counters, [(room.clone(), 5)]);
    assert_eq!(counters, listed);
    let mut stream = channels(&gateway, "bob")
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: room.clone(),
        })
        .await
        .expect("stream")
        .into_inner();

    redis.kill();
    let error = bobs_counts(&gateway, 0).await.expect_err("no Redis");
    assert_eq!(error.code(), tonic::Code::Unavailable, "{error}");
    let position = send_acknowledged(&gateway, &room, "during", 0..5, &mut sent).await;
    outlast_event_retries().await;

    // Redis comes back empty (it keeps nothing on disk): the unread
    // projector finds its checkpoint gone and rebuilds from the log.
    redis.restart();
    let position = send_acknowledged(&gateway, &room, "after", 0..5, &mut sent)
        .await
        .max(position);
    let (counters, listed) = eventually(
        "unread counts rebuilt after the Redis restart",
        || bobs_counts(&gateway, position),
        |(counters, _)| counters.first().map(|(_, n)| *n) == Some(15),
    )
    .await;
    assert_eq!(counters, [(room.clone(), 15)]);
    assert_eq!(counters, listed);
    assert_eq!(bodies(&gateway, &room, position).await.expect("list"), sent);
    // The stream opened before the outage resumes: what was sent while
    // Redis was away comes from the event log, once each and in order.
    let mut streamed = Vec::new();
    while streamed.len() < 10 {
        let update = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the stream resumed")
            .expect("stream")
            .expect("update");
        streamed.push(update.message.expect("message").body);
    }
    assert_eq!(streamed, sent[5..]);
    fleet.stop().await;
}
