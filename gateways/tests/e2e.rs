//! End to end over gRPC and HTTP: the real `quire dev` stack on ephemeral
//! ports with a temporary data directory, driven as two users.

mod common;

use std::time::Duration;

use common::{put, put_upload, read_at, upload_request};
use quire_gateways::dev::{DevOptions, DevStack, assemble, serve};
use quire_proto::v1;
use quire_proto::v1::channel_service_client::ChannelServiceClient;
use quire_proto::v1::document_service_client::DocumentServiceClient;
use quire_proto::v1::event_service_client::EventServiceClient;
use quire_proto::v1::search_service_client::SearchServiceClient;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Auth = Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>;

struct Running {
    channel: Channel,
    stack_tokens: Tokens,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

struct Tokens {
    alice: String,
    bob: String,
    carol: String,
}

async fn start() -> Running {
    start_in(tempfile::tempdir().expect("dir")).await
}

async fn start_in(dir: tempfile::TempDir) -> Running {
    let options = DevOptions {
        data_dir: dir.path().to_path_buf(),
        grpc_addr: "127.0.0.1:0".to_owned(),
        http_addr: "127.0.0.1:0".to_owned(),
    };
    let stack: DevStack = assemble(&options).await.expect("assemble");
    let mint = |user: &str| {
        stack
            .auth
            .mint(
                &quire_domain::values::UserId::parse(user).expect("user"),
                Duration::from_secs(600),
            )
            .expect("token")
    };
    let stack_tokens = Tokens {
        alice: mint("alice"),
        bob: mint("bob"),
        carol: mint("carol"),
    };
    let address = stack.grpc.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(stack, async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    Running {
        channel,
        stack_tokens,
        _dir: dir,
        stop: Some(stop),
        server,
    }
}

impl Running {
    fn auth(&self, token: &str) -> Auth {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("header");
        Box::new(move |mut request: tonic::Request<()>| {
            request.metadata_mut().insert("authorization", value.clone());
            Ok(request)
        })
    }

    fn documents(&self, token: &str) -> DocumentServiceClient<InterceptedService<Channel, Auth>> {
        DocumentServiceClient::with_interceptor(self.channel.clone(), self.auth(token))
    }

    fn channels(&self, token: &str) -> ChannelServiceClient<InterceptedService<Channel, Auth>> {
        ChannelServiceClient::with_interceptor(self.channel.clone(), self.auth(token))
    }

    fn search(&self, token: &str) -> SearchServiceClient<InterceptedService<Channel, Auth>> {
        SearchServiceClient::with_interceptor(self.channel.clone(), self.auth(token))
    }

    async fn shutdown(self) {
        let _ = self.stop_and_keep_data().await;
    }

    /// Stops the server cleanly and hands back its data directory.
    async fn stop_and_keep_data(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server)
            .await
            .expect("server task")
            .expect("clean shutdown");
        let Running { _dir, .. } = self;
        _dir
    }
}

/// Uploads `content` as alice through a signed URL; returns the document id
/// and the completion's position.
async fn upload(running: &Running, name: &str, content: &[u8]) -> (String, u64) {
    let ticket = running
        .documents(&running.stack_tokens.alice)
        .request_upload(upload_request(name, content))
        .await
        .expect("ticket")
        .into_inner();
    let position = put_upload(&ticket.upload_url, content).await;
    (ticket.document_id, position)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_flow_through_upload_share_download_and_search() {
    let running = start().await;
    let content = b"# Quarterly plan\n\nThe zeppelin budget is approved.\n";
    let (id, position) = upload(&running, "plan.md", content).await;

    let mut alice = running.documents(&running.stack_tokens.alice);
    let document = alice
        .get_document(v1::GetDocumentRequest {
            document_id: id.clone(),
            read: read_at(position),
        })
        .await
        .expect("get")
        .into_inner();
    assert!(document.ready);
    assert_eq!(document.size, content.len() as u64);

    // Download through a signed URL returns the same bytes.
    let url = alice
        .get_download_url(v1::GetDownloadUrlRequest {
            document_id: id.clone(),
            version: 0,
            read: None,
        })
        .await
        .expect("url")
        .into_inner();
    let downloaded = reqwest::get(&url.url)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&downloaded[..], content);
    let tampered = url.url.replace("signature=", "signature=00");
    assert_eq!(reqwest::get(&tampered).await.expect("get").status().as_u16(), 400);

    // Bob cannot see it until it is shared, and may not share it himself.
    let mut bob = running.documents(&running.stack_tokens.bob);
    let hidden = bob
        .get_document(v1::GetDocumentRequest {
            document_id: id.clone(),
            read: None,
        })
        .await
        .expect_err("hidden");
    assert_eq!(hidden.code(), Code::NotFound);
    let share = v1::ShareDocumentRequest {
        command_id: String::new(),
        document_id: id.clone(),
        user_id: "bob".into(),
        role: v1::ShareRole::View as i32,
    };
    let shared = alice.share_document(share).await.expect("share").into_inner();
    let seen = bob
        .get_document(v1::GetDocumentRequest {
            document_id: id.clone(),
            read: read_at(shared.position),
        })
        .await
        .expect("shared")
        .into_inner();
    assert_eq!(seen.access, v1::Access::View as i32);
    let reshare = v1::ShareDocumentRequest {
        command_id: String::new(),
        document_id: id.clone(),
        user_id: "carol".into(),
        role: v1::ShareRole::View as i32,
    };
    assert_eq!(
        bob.share_document(reshare)
            .await
            .expect_err("viewer shares")
            .code(),
        Code::PermissionDenied
    );

    // Extracted text reaches search for alice and bob, not carol.
    let found = wait_for_hit(&running, &running.stack_tokens.bob, "zeppelin").await;
    assert_eq!(found.id, id);
    let mut carol = running.search(&running.stack_tokens.carol);
    let none = carol
        .search(v1::SearchRequest {
            query: "zeppelin".into(),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner();
    assert!(none.hits.is_empty(), "carol sees a document not shared with her");
    running.shutdown().await;
}

async fn wait_for_hit(running: &Running, token: &str, query: &str) -> v1::SearchHit {
    let mut search = running.search(token);
    for _ in 0..100 {
        let hits = search
            .search(v1::SearchRequest {
                query: query.into(),
                ..Default::default()
            })
            .await
            .expect("search")
            .into_inner()
            .hits;
        if let Some(hit) = hits.into_iter().next() {
            return hit;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{query}` never became searchable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_do_not_match_their_declaration_leave_nothing() {
    let running = start().await;
    let mut alice = running.documents(&running.stack_tokens.alice);
    let declared = b"the declared content";
    let ticket = alice
        .request_upload(upload_request("notes.md", declared))
        .await
        .expect("ticket")
        .into_inner();
    let wrong = b"other content, same!";
    assert_eq!(wrong.len(), declared.len());
    let response = put(&ticket.upload_url, wrong).await;
    assert_eq!(
        response.status().as_u16(),
        422,
        "a mismatched hash must be refused"
    );
    let too_long = put(&ticket.upload_url, &[b'x'; 100]).await;
    assert_eq!(too_long.status().as_u16(), 413);
    let document = alice
        .get_document(v1::GetDocumentRequest {
            document_id: ticket.document_id.clone(),
            read: None,
        })
        .await
        .expect("get")
        .into_inner();
    assert!(!document.ready, "a refused upload must not complete the document");
    // The right content still completes it afterwards.
    let ok = put(&ticket.upload_url, declared).await;
    assert!(ok.status().is_success());
    let again = put(&ticket.upload_url, declared).await;
    assert_eq!(
        again.status().as_u16(),
        409,
        "a completed version refuses more content"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_name_the_field_and_auth_is_enforced() {
    let running = start().await;
    let mut alice = running.documents(&running.stack_tokens.alice);
    let mut bad = upload_request("a/b.md", b"x");
    let error = alice
        .request_upload(bad.clone())
        .await
        .expect_err("slash in name");
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().starts_with("name"), "{}", error.message());
    bad.name = "ok.md".into();
    bad.sha256 = "nothex".into();
    let error = alice.request_upload(bad).await.expect_err("bad hash");
    assert!(error.message().starts_with("sha256"), "{}", error.message());
    let error = alice
        .get_document(v1::GetDocumentRequest {
            document_id: "nope".into(),
            read: None,
        })
        .await
        .expect_err("unknown");
    assert_eq!(error.code(), Code::NotFound);

    let mut anonymous = DocumentServiceClient::new(running.channel.clone());
    let error = anonymous
        .list_documents(v1::ListDocumentsRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(error.code(), Code::Unauthenticated);
    let mut forged = running.documents("abc.def.ghi");
    assert_eq!(
        forged
            .list_documents(v1::ListDocumentsRequest::default())
            .await
            .expect_err("forged")
            .code(),
        Code::Unauthenticated
    );
    let mut health = tonic_health::pb::health_client::HealthClient::new(running.channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no token");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_deliver_messages_live_and_commands_are_idempotent() {
    let running = start().await;
    let mut alice = running.channels(&running.stack_tokens.alice);
    let create = v1::CreateChannelRequest {
        command_id: "create-general".into(),
        kind: v1::ChannelKind::Group as i32,
        name: "general".into(),
        member_ids: vec!["bob".into()],
    };
    let created = alice
        .create_channel(create.clone())
        .await
        .expect("create")
        .into_inner();
    let retried = alice.create_channel(create).await.expect("retry").into_inner();
    assert_eq!(retried.channel_id, created.channel_id);
    assert!(retried.result.expect("result").replayed);

    let mut bob = running.channels(&running.stack_tokens.bob);
    let mut live = bob
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: created.channel_id.clone(),
        })
        .await
        .expect("stream")
        .into_inner();
    let send = v1::SendMessageRequest {
        command_id: "hello-1".into(),
        channel_id: created.channel_id.clone(),
        body: "hello bob, about the zeppelin".into(),
        ..Default::default()
    };
    let sent = alice.send_message(send.clone()).await.expect("send").into_inner();
    let again = alice.send_message(send).await.expect("resend").into_inner();
    assert_eq!(again.message_id, sent.message_id);
    let update = tokio::time::timeout(Duration::from_secs(10), live.message())
        .await
        .expect("live delivery")
        .expect("stream")
        .expect("update");
    assert_eq!(
        update.message.expect("message").body,
        "hello bob, about the zeppelin"
    );

    let position = sent.result.expect("result").position;
    let listed = bob
        .list_channels(v1::ListChannelsRequest {
            page: None,
            read: read_at(position),
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.channels.len(), 1);
    assert_eq!(
        listed.channels[0].unread, 1,
        "one message, sent once despite the retry"
    );
    assert_eq!(
        unread_counts(&mut bob, position).await,
        [(created.channel_id.clone(), 1)],
        "GetUnreadCounts agrees with the channel list"
    );
    let read = bob
        .mark_read(v1::MarkReadRequest {
            command_id: String::new(),
            channel_id: created.channel_id.clone(),
            message_id: sent.message_id.clone(),
        })
        .await
        .expect("mark read")
        .into_inner();
    assert!(unread_counts(&mut bob, read.position).await.is_empty());
    let mut carol = running.channels(&running.stack_tokens.carol);
    let request = v1::ListMessagesRequest {
        channel_id: created.channel_id.clone(),
        ..Default::default()
    };
    assert_eq!(
        carol
            .list_messages(request)
            .await
            .expect_err("not a participant")
            .code(),
        Code::NotFound
    );
    let hit = wait_for_hit(&running, &running.stack_tokens.bob, "zeppelin").await;
    assert_eq!(hit.id, sent.message_id);

    let mut events = EventServiceClient::with_interceptor(
        running.channel.clone(),
        running.auth(&running.stack_tokens.alice),
    );
    let all = events
        .read_all(v1::ReadAllRequest {
            from_position: 1,
            limit: 100,
        })
        .await
        .expect("read all")
        .into_inner();
    let message = all
        .events
        .iter()
        .find(|e| e.event_type == "channel.message_sent")
        .expect("message event");
    assert_eq!(message.actor, "user:alice");
    assert_eq!(message.command_id, "hello-1");
    assert!(message.payload_json.contains("zeppelin"));
    running.shutdown().await;
}

/// The online participants of `channel`, as `token`'s user sees them.
async fn presence(running: &Running, token: &str, channel: &str) -> Result<Vec<String>, tonic::Status> {
    let request = v1::GetPresenceRequest {
        channel_id: channel.into(),
    };
    let response = running.channels(token).get_presence(request).await?;
    Ok(response.into_inner().online_user_ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_is_online_while_streaming_messages() {
    let running = start().await;
    let tokens = &running.stack_tokens;
    let created = running
        .channels(&tokens.alice)
        .create_channel(v1::CreateChannelRequest {
            command_id: "create-presence".into(),
            kind: v1::ChannelKind::Group as i32,
            name: "presence".into(),
            member_ids: vec!["bob".into()],
        })
        .await
        .expect("create")
        .into_inner();
    let channel = created.channel_id;
    let position = created.result.expect("result").position;
    running
        .channels(&tokens.alice)
        .get_channel(v1::GetChannelRequest {
            channel_id: channel.clone(),
            read: read_at(position),
        })
        .await
        .expect("the channel is visible");
    assert_eq!(
        presence(&running, &tokens.alice, &channel)
            .await
            .expect("presence"),
        Vec::<String>::new()
    );

    let live = running
        .channels(&tokens.bob)
        .stream_messages(v1::StreamMessagesRequest {
            channel_id: channel.clone(),
        })
        .await
        .expect("stream")
        .into_inner();
    let bob_online = || async {
        presence(&running, &tokens.alice, &channel)
            .await
            .expect("presence")
            == ["bob"]
    };
    assert!(eventually(bob_online).await, "bob streams, so he is online");
    let denied = presence(&running, &tokens.carol, &channel)
        .await
        .expect_err("not a participant");
    assert_eq!(denied.code(), Code::NotFound);

    drop(live);
    let nobody = || async {
        presence(&running, &tokens.alice, &channel)
            .await
            .expect("presence")
            .is_empty()
    };
    assert!(eventually(nobody).await, "bob's stream ended, so he is offline");
    running.shutdown().await;
}

/// Polls `check` for up to 10 s.
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..200 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_restart() {
    let running = start().await;
    let (id, _) = upload(&running, "plan.md", b"the zeppelin schedule").await;
    let mut alice = running.channels(&running.stack_tokens.alice);
    let create = v1::CreateChannelRequest {
        kind: v1::ChannelKind::Group as i32,
        name: "ops".into(),
        member_ids: vec!["bob".into()],
        ..Default::default()
    };
    let channel = alice
        .create_channel(create)
        .await
        .expect("create")
        .into_inner()
        .channel_id;
    let send = v1::SendMessageRequest {
        channel_id: channel.clone(),
        body: "zeppelin boarding at nine".into(),
        ..Default::default()
    };
    alice.send_message(send).await.expect("send");
    let _ = wait_for_hit(&running, &running.stack_tokens.alice, "boarding").await;
    let dir = running.stop_and_keep_data().await;

    let running = start_in(dir).await;
    let document = running
        .documents(&running.stack_tokens.alice)
        .get_document(v1::GetDocumentRequest {
            document_id: id.clone(),
            read: None,
        })
        .await
        .expect("document after restart")
        .into_inner();
    assert!(document.ready);
    let mut bob = running.channels(&running.stack_tokens.bob);
    let messages = bob
        .list_messages(v1::ListMessagesRequest {
            channel_id: channel,
            ..Default::default()
        })
        .await
        .expect("messages after restart")
        .into_inner();
    assert_eq!(messages.messages.len(), 1);
    assert_eq!(messages.messages[0].body, "zeppelin boarding at nine");
    let hits = running
        .search(&running.stack_tokens.alice)
        .search(v1::SearchRequest {
            query: "zeppelin".into(),
            ..Default::default()
        })
        .await
        .expect("search after restart")
        .into_inner()
        .hits;
    assert_eq!(
        hits.len(),
        2,
        "both the document and the message are still found: {hits:?}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_services_without_a_token() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let running = start().await;
    let mut reflection = ServerReflectionClient::new(running.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = responses.message().await.expect("stream").expect("a response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in [
        "quire.v1.DocumentService",
        "quire.v1.ChannelService",
        "quire.v1.SearchService",
        "quire.v1.EventService",
        "quire.v1.AdminService",
        "quire.v1.ProjectService",
    ] {
        assert!(
            names.iter().any(|n| n == service),
            "{service} missing from {names:?}"
        );
    }
    drop(responses);
    running.shutdown().await;
}

/// The reader's unread counts once the read model has applied `position`.
async fn unread_counts(
    client: &mut ChannelServiceClient<InterceptedService<Channel, Auth>>,
    position: u64,
) -> Vec<(String, u64)> {
    client
        .get_unread_counts(v1::GetUnreadCountsRequest {
            read: read_at(position),
        })
        .await
        .expect("unread counts")
        .into_inner()
        .counts
        .into_iter()
        .map(|count| (count.channel_id, count.unread))
        .collect()
}
