//! `quire events tail`: follow the event log.

use clap::Args;
use quire_proto::v1;
use quire_proto::v1::event_service_client::EventServiceClient;

use super::connection::{Connection, describe};

#[derive(Debug, Clone, Args)]
pub struct TailArgs {
    /// Start at this position (default: only new events).
    #[arg(long)]
    pub from: Option<u64>,
    /// Only these stream categories (repeatable).
    #[arg(long = "category")]
    pub categories: Vec<String>,
    /// Only these event types (repeatable).
    #[arg(long = "type")]
    pub event_types: Vec<String>,
}

pub async fn tail(connection: Connection, args: TailArgs) -> anyhow::Result<()> {
    let mut client = EventServiceClient::with_interceptor(connection.channel, connection.bearer);
    let from = match args.from {
        Some(from) => from,
        None => {
            let read = client
                .read_all(v1::ReadAllRequest {
                    from_position: u64::MAX,
                    limit: 1,
                })
                .await
                .map_err(describe)?;
            read.into_inner().head + 1
        }
    };
    let request = v1::SubscribeRequest {
        from_position: from,
        categories: args.categories,
        event_types: args.event_types,
    };
    let mut events = client.subscribe(request).await.map_err(describe)?.into_inner();
    while let Some(event) = events.message().await.map_err(describe)? {
        print_event(&event, connection.json)?;
    }
    Ok(())
}

fn print_event(event: &v1::Event, json: bool) -> anyhow::Result<()> {
    if json {
        let payload: serde_json::Value =
            serde_json::from_str(&event.payload_json).unwrap_or(serde_json::Value::Null);
        let line = serde_json::json!({
            "position": event.position,
            "stream_id": event.stream_id,
            "stream_version": event.stream_version,
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "event_id": event.event_id,
            "recorded_at": event.recorded_at,
            "actor": event.actor,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "command_id": event.command_id,
            "payload": payload,
        });
        println!("{line}");
    } else {
        println!(
            "{:>8}  {:<28} {}@{}  {}  {}",
            event.position,
            event.event_type,
            event.stream_id,
            event.stream_version,
            event.actor,
            event.payload_json
        );
    }
    Ok(())
}
