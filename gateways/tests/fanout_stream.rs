//! `StreamMessages` of one channel through a message fan-out, as a fleet's
//! gateways serve it: notices become updates read from the read model,
//! repeats are dropped by position, and a gap is filled from the event log.
//! The embedded stack stands in for the fleet; a scripted fan-out stands in
//! for Redis, so the test decides when notices and gaps arrive.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use parking_lot::Mutex;
use quire_domain::Position;
use quire_domain::values::{ChannelId, MessageId, UserId};
use quire_gateways::dev::{DevOptions, assemble, serve};
use quire_projections::realtime::{
    Delivery, DeliveryStream, MessageFanout, MessageNotice, NoticeKind, RealtimeError,
};
use quire_proto::v1;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use tokio::sync::mpsc;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// A fan-out whose one subscription delivers what the test sends.
#[derive(Debug, Default)]
struct ScriptedFanout {
    script: Mutex<Option<mpsc::UnboundedReceiver<Delivery>>>,
}

#[async_trait]
impl MessageFanout for ScriptedFanout {
    async fn publish(&self, _notice: &MessageNotice) -> Result<(), RealtimeError> {
        Ok(())
    }

    async fn subscribe(&self, _channels: &[ChannelId]) -> Result<DeliveryStream, RealtimeError> {
        let script = self.script.lock().take().expect("one subscription");
        Ok(tokio_stream::wrappers::UnboundedReceiverStream::new(script).boxed())
    }
}

type Client = ChannelServiceClient<
    tonic::service::interceptor::InterceptedService<
        Channel,
        Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>,
    >,
>;

fn client(channel: &Channel, token: String) -> Client {
    let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("header");
    ChannelServiceClient::with_interceptor(
        channel.clone(),
        Box::new(move |mut request: tonic::Request<()>| {
            request.metadata_mut().insert("authorization", value.clone());
            Ok(request)
        }),
    )
}

async fn send(alice: &mut Client, channel_id: &str, body: &str) -> (String, u64) {
    let sent = alice
        .send_message(v1::SendMessageRequest {
            channel_id: channel_id.to_owned(),
            body: body.to_owned(),
            ..Default::default()
        })
        .await
        .expect("send")
        .into_inner();
    (sent.message_id, sent.result.expect("result").position)
}

fn notice(channel_id: &str, message_id: &str, position: u64) -> Delivery {
    Delivery::Notice(MessageNotice {
        channel: ChannelId::parse(channel_id).expect("channel"),
        message: MessageId::parse(message_id).expect("message"),
        position: Position(position),
        author: UserId::parse("alice").expect("user"),
        kind: NoticeKind::Sent,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_become_updates_repeats_drop_and_gaps_fill_from_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let options = DevOptions {
        data_dir: dir.path().to_path_buf(),
        grpc_addr: "127.0.0.1:0".to_owned(),
        http_addr: "127.0.0.1:0".to_owned(),
    };
    let mut stack = assemble(&options).await.expect("assemble");
    let (script, deliveries) = mpsc::unbounded_channel();
    let mut app = Arc::try_unwrap(stack.app).expect("nothing else holds the app yet");
    app.fanout = Some(Arc::new(ScriptedFanout {
        script: Mutex::new(Some(deliveries)),
    }));
    stack.app = Arc::new(app);
    let mint = |user: &str| {
        stack
            .auth
            .mint(&UserId::parse(user).expect("user"), Duration::from_secs(600))
            .expect("token")
    };
    let (alice_token, bob_token) = (mint("alice"), mint("bob"));
    let address = format!("http://{}", stack.grpc.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(stack, async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(address)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut alice = client(&channel, alice_token);
    let room = alice
        .create_channel(v1::CreateChannelRequest {
            command_id: String::new(),
            kind: v1::ChannelKind::Group as i32,
            name: "ops".into(),
            member_ids: vec!["bob".into()],
        })
        .await
        .expect("create")
        .into_inner()
        .channel_id;
    let mut live = client(&channel, bob_token)
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: room.clone(),
        })
        .await
        .expect("stream")
        .into_inner();
    let mut next_body = async || {
        let update = tokio::time::timeout(Duration::from_secs(10), live.message())
            .await
            .expect("an update in time")
            .expect("stream")
            .expect("open");
        update.message.expect("message").body
    };

    // Two messages nobody announced: a gap brings both, from the log.
    send(&mut alice, &room, "first").await;
    let (second, second_at) = send(&mut alice, &room, "second").await;
    script.send(Delivery::Gap).expect("script");
    assert_eq!(next_body().await, "first");
    assert_eq!(next_body().await, "second");

    // A repeat of an old notice is dropped; a new one is delivered once.
    let (third, third_at) = send(&mut alice, &room, "third").await;
    script.send(notice(&room, &second, second_at)).expect("script");
    script.send(notice(&room, &third, third_at)).expect("script");
    script.send(notice(&room, &third, third_at)).expect("script");
    script.send(Delivery::Gap).expect("script");
    let (_, _) = send(&mut alice, &room, "fourth").await;
    script.send(Delivery::Gap).expect("script");
    assert_eq!(next_body().await, "third");
    assert_eq!(
        next_body().await,
        "fourth",
        "no repeat of the third before the fourth"
    );

    let _ = stop.send(());
    server.await.expect("server task").expect("clean shutdown");
}
