//! Across gateways: a message sent through gateway A reaches clients
//! streaming from gateway B, presence and unread counts agree, and a
//! document uploaded through A is listed and searchable through B.
//!
//! The test prints the ack → streamed lag of its messages (100, or
//! `QUIRE_FLEET_MESSAGES`); for a figure rather than a check, run it in a
//! release build with more messages:
//!
//! ```text
//! QUIRE_FLEET_MESSAGES=2000 cargo test --release -p quire-gateways --test fleet messages_and_documents -- --nocapture
//! ```

use std::time::{Duration, Instant};

use quire_projections::realtime::UNREAD_WINDOW;
use quire_proto::v1;
use quire_proto::v1::document_service_client::DocumentServiceClient;
use quire_proto::v1::search_service_client::SearchServiceClient;

use crate::common::{put_upload, read_at, upload_request};
use crate::harness::{Fleet, auth, channels, create_channel, unread_counts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_documents_cross_gateways() {
    let mut fleet = Fleet::new();
    fleet.start("projector-1", "projector", "main", "main");
    fleet.start("worker-1", "worker", "main", "main");
    let a = fleet.start("gateway-a", "gateway", "main", "main");
    let b = fleet.start("gateway-b", "gateway", "main", "main");
    let (gateway_a, gateway_b) = (fleet.channel(a).await, fleet.channel(b).await);

    // A channel created through A is read through B.
    let (channel_id, position) = create_channel(&gateway_a, "general").await;
    let seen = channels(&gateway_b, "bob")
        .get_channel(v1::GetChannelRequest {
            channel_id: channel_id.clone(),
            read: read_at(position),
        })
        .await
        .expect("channel through B")
        .into_inner();
    assert_eq!(seen.name, "general");

    // Messages sent through A reach a client streaming the channel from B
    // (Redis fan-out) and one streaming all of Bob's channels (the log).
    let mut live = channels(&gateway_b, "bob")
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: channel_id.clone(),
        })
        .await
        .expect("stream")
        .into_inner();
    let mut everything = channels(&gateway_b, "bob")
        .stream_messages(v1::StreamMessagesRequest::default())
        .await
        .expect("stream of all channels")
        .into_inner();
    let mut alice = channels(&gateway_a, "alice");
    // Bob streams from B, so A sees him online (Redis presence).
    let mut online = Vec::new();
    for _ in 0..100 {
        let request = v1::GetPresenceRequest {
            channel_id: channel_id.clone(),
        };
        online = alice
            .get_presence(request)
            .await
            .expect("presence")
            .into_inner()
            .online_user_ids;
        if online == ["bob"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(online, ["bob"], "bob streams from gateway B");
    let messages = message_count();
    let mut lags = Vec::new();
    let mut last_position = 0;
    for n in 0..messages {
        let sent_at = Instant::now();
        let sent = alice
            .send_message(v1::SendMessageRequest {
                channel_id: channel_id.clone(),
                body: format!("message {n} about the zeppelin"),
                ..Default::default()
            })
            .await
            .expect("send")
            .into_inner();
        let acked = sent_at.elapsed();
        let update = tokio::time::timeout(Duration::from_secs(10), live.message())
            .await
            .expect("delivered within 10 s")
            .expect("stream")
            .expect("update");
        let message = update.message.expect("message");
        assert_eq!(message.id, sent.message_id);
        last_position = sent.result.expect("result").position;
        assert_eq!(message.body, format!("message {n} about the zeppelin"));
        lags.push(sent_at.elapsed().saturating_sub(acked));
        // Read as it comes, so that an unread stream never holds the
        // connection's flow-control window.
        let update = tokio::time::timeout(Duration::from_secs(10), everything.message())
            .await
            .expect("delivered on the all-channels stream")
            .expect("stream")
            .expect("update");
        assert_eq!(
            update.message.expect("message").body,
            format!("message {n} about the zeppelin")
        );
    }
    // Bob's unread counts through B (Redis counters) count them all, up
    // to the counters' window.
    let counts = unread_counts(&gateway_b, "bob", last_position)
        .await
        .expect("unread counts");
    let counted = messages.min(UNREAD_WINDOW as u32);
    assert_eq!(counts, [(channel_id.clone(), u64::from(counted))]);

    lags.sort();
    println!(
        "ack -> streamed on the other gateway: p50 {:?}, p99 {:?}, max {:?} ({messages} messages)",
        lags[quantile(messages, 50)],
        lags[quantile(messages, 99)],
        lags[lags.len() - 1]
    );

    // A document uploaded through A is listed and searchable through B.
    let content = b"# Airship plan\n\nThe dirigible leaves at dawn.\n";
    let ticket = DocumentServiceClient::with_interceptor(gateway_a.clone(), auth("alice"))
        .request_upload(upload_request("airship.md", content))
        .await
        .expect("ticket")
        .into_inner();
    let uploaded_at = put_upload(&ticket.upload_url, content).await;
    let listed = DocumentServiceClient::with_interceptor(gateway_b.clone(), auth("alice"))
        .list_documents(v1::ListDocumentsRequest {
            read: read_at(uploaded_at),
            ..Default::default()
        })
        .await
        .expect("list through B")
        .into_inner();
    assert!(
        listed
            .documents
            .iter()
            .any(|d| d.id == ticket.document_id && d.ready)
    );
    let mut search = SearchServiceClient::with_interceptor(gateway_b.clone(), auth("alice"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hits = search
            .search(v1::SearchRequest {
                query: "dirigible".into(),
                ..Default::default()
            })
            .await
            .expect("search through B")
            .into_inner()
            .hits;
        if hits.iter().any(|hit| hit.id == ticket.document_id) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the extracted text never became searchable through B"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    fleet.stop().await;
}

/// How many messages to send: `QUIRE_FLEET_MESSAGES`, or 100.
fn message_count() -> u32 {
    std::env::var("QUIRE_FLEET_MESSAGES")
        .ok()
        .map(|n| n.parse().expect("QUIRE_FLEET_MESSAGES is a count"))
        .filter(|&n| n > 0)
        .unwrap_or(100)
}

/// The index of the `percent` quantile in `count` sorted samples (nearest
/// rank).
fn quantile(count: u32, percent: u32) -> usize {
    let rank = (count * percent).div_ceil(100).max(1);
    (rank - 1) as usize
}
