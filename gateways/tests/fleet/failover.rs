//! Projector failover: killing the projector process mid-load and
//! starting another loses and duplicates nothing (compared with a clean
//! replay by an independent fleet).

use std::time::{Duration, Instant};

use quire_proto::v1;
use quire_proto::v1::admin_service_client::AdminServiceClient;
use sqlx::Row;

use crate::common::read_at;
use crate::harness::{Fleet, POSTGRES, auth, channels, create_channel, listed_unread_counts, unread_counts};

/// Every row of every read-model table of `schema`, as JSON text, sorted.
async fn read_model_rows(pool: &sqlx::PgPool, schema: &str) -> Vec<(String, Vec<String>)> {
    let tables = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 AND table_name NOT IN ('checkpoints', 'dead_letters', '_sqlx_migrations')
         ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut dump = Vec::new();
    for table in tables {
        let table: String = table.get(0);
        let select = format!("SELECT to_jsonb(t)::text FROM \"{schema}\".\"{table}\" t ORDER BY 1");
        let rows = sqlx::query_scalar::<_, String>(&select)
            .fetch_all(pool)
            .await
            .expect("rows");
        dump.push((table, rows));
    }
    dump
}

async fn checkpoints(pool: &sqlx::PgPool, schema: &str) -> Vec<(String, i64)> {
    let select = format!("SELECT projector, position FROM \"{schema}\".checkpoints ORDER BY 1");
    sqlx::query_as::<_, (String, i64)>(&select)
        .fetch_all(pool)
        .await
        .unwrap_or_default()
}

/// Waits until the relational projectors of `schema` have applied `head`.
async fn wait_for_checkpoints(pool: &sqlx::PgPool, schema: &str, head: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let points = checkpoints(pool, schema).await;
        // The lowest row of a projector's own and its partitions' (a long
        // channels batch commits by partition, ADR 0013).
        let at = |name: &str| {
            let partition = format!("{name}#");
            let family = points
                .iter()
                .filter(|(p, _)| p == name || p.starts_with(&partition));
            family.map(|(_, at)| *at).min().unwrap_or(0)
        };
        if at("documents.postgres") >= head as i64 && at("channels.postgres") >= head as i64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{schema} never reached {head}: {points:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Messages sent during the failover test, a multiple of its 3 channels.
const MESSAGES: usize = 2400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_mid_load_loses_and_duplicates_nothing() {
    let mut fleet = Fleet::new();
    let first = fleet.start("projector-1", "projector", "main", "main");
    let a = fleet.start("gateway-a", "gateway", "main", "main");
    let gateway = fleet.channel(a).await;
    let mut rooms = Vec::new();
    for name in ["ops", "design", "random"] {
        rooms.push(create_channel(&gateway, name).await.0);
    }

    // Load through the gateway while the projector is killed and replaced.
    let sender = {
        let gateway = gateway.clone();
        let rooms = rooms.clone();
        tokio::spawn(async move {
            let mut alice = channels(&gateway, "alice");
            let mut last = 0;
            for n in 0..MESSAGES {
                let sent = alice
                    .send_message(v1::SendMessageRequest {
                        channel_id: rooms[n % rooms.len()].clone(),
                        body: format!("load message {n}"),
                        ..Default::default()
                    })
                    .await
                    .expect("send during failover")
                    .into_inner();
                last = sent.result.expect("result").position;
            }
            last
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !sender.is_finished(),
        "the projector must die in the middle of the load"
    );
    fleet.kill(first);
    fleet.start("projector-2", "projector", "main", "main");
    let head = sender.await.expect("sender");

    // The survivor catches up; a clean replay into other schemas, by an
    // independent fleet, must hold exactly the same rows.
    let pool = sqlx::PgPool::connect(POSTGRES).await.expect("postgres");
    wait_for_checkpoints(&pool, &fleet.schema("main"), head).await;
    fleet.start("replayer", "projector", "clean", "clean");
    wait_for_checkpoints(&pool, &fleet.schema("clean"), head).await;
    let failed_over = read_model_rows(&pool, &fleet.schema("main")).await;
    let replayed = read_model_rows(&pool, &fleet.schema("clean")).await;
    assert!(!replayed.is_empty());
    let messages = replayed
        .iter()
        .find(|(t, _)| t == "messages")
        .map_or(0, |(_, r)| r.len());
    assert_eq!(messages, MESSAGES, "every message once in the clean replay");
    for ((table, rows), (_, clean)) in failed_over.iter().zip(&replayed) {
        assert_eq!(rows.len(), clean.len(), "{table}: row counts differ");
        assert!(rows == clean, "{table}: rows differ from a clean replay");
    }
    assert_eq!(failed_over.len(), replayed.len());

    // Listing through the gateway agrees.
    let mut bob = channels(&gateway, "bob");
    let (mut listed, mut page_token) = (0, String::new());
    loop {
        let page = bob
            .list_messages(v1::ListMessagesRequest {
                channel_id: rooms[0].clone(),
                read: read_at(head),
                page: Some(v1::PageRequest {
                    page_size: 200,
                    page_token,
                }),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        listed += page.messages.len();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(listed, MESSAGES / 3);

    // Unread counts, written to Redis by both projector processes in turn,
    // agree with the Postgres read model's.
    let from_redis = unread_counts(&gateway, "bob", head).await.expect("unread counts");
    let from_postgres = listed_unread_counts(&gateway, "bob", head)
        .await
        .expect("channels");
    assert_eq!(from_redis.len(), rooms.len());
    assert!(from_redis.iter().all(|(_, n)| *n == (MESSAGES / 3) as u64));
    assert_eq!(from_redis, from_postgres);
    let statuses = AdminServiceClient::with_interceptor(gateway.clone(), auth("alice"))
        .list_projectors(v1::ListProjectorsRequest {})
        .await
        .expect("admin through the gateway")
        .into_inner();
    assert!(statuses.projectors.iter().any(|p| p.name == "channels.postgres"));

    for index in (0..fleet.processes.len()).rev() {
        if index != first {
            fleet.terminate(index);
        }
    }
    fleet.cleanup().await;
}
