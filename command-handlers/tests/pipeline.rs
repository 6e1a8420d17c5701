//! The command pipeline against the embedded log, with a small test
//! aggregate (an account with a balance that must not go negative).

use std::sync::Arc;

use futures::future::join_all;
use quire_command_handlers::{CommandContext, CommandError, CommandPipeline, PipelineConfig};
use quire_domain::{Actor, Aggregate, Position, StreamId};
use quire_event_log::{Direction, EventLog, ExpectedVersion};
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Deposited {
    amount: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Withdrawn {
    amount: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum AccountEvent {
    Deposited(Deposited),
    Withdrawn(Withdrawn),
}

quire_domain::domain_events!(AccountEvent {
    Deposited(Deposited) => "account.deposited" v1,
    Withdrawn(Withdrawn) => "account.withdrawn" v1,
});

enum AccountCommand {
    Deposit(u64),
    Withdraw(u64),
    /// Two events from one command.
    DepositTwice(u64),
}

#[derive(Debug, thiserror::Error, PartialEq)]
enum AccountError {
    #[error("balance {balance} does not cover {amount}")]
    InsufficientFunds { balance: u64, amount: u64 },
}

#[derive(Debug, Clone, Default)]
struct Account {
    balance: u64,
}

impl Aggregate for Account {
    const CATEGORY: &'static str = "account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;

    fn decide(&self, command: &AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
        match *command {
            AccountCommand::Deposit(0) => Ok(vec![]),
            AccountCommand::Deposit(amount) => Ok(vec![AccountEvent::Deposited(Deposited { amount })]),
            AccountCommand::DepositTwice(amount) => Ok(vec![
                AccountEvent::Deposited(Deposited { amount }),
                AccountEvent::Deposited(Deposited { amount }),
            ]),
            AccountCommand::Withdraw(amount) if amount > self.balance => {
                Err(AccountError::InsufficientFunds {
                    balance: self.balance,
                    amount,
                })
            }
            AccountCommand::Withdraw(amount) => Ok(vec![AccountEvent::Withdrawn(Withdrawn { amount })]),
        }
    }

    fn apply(&mut self, event: &AccountEvent) {
        match event {
            AccountEvent::Deposited(e) => self.balance += e.amount,
            AccountEvent::Withdrawn(e) => self.balance -= e.amount,
        }
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    log: Arc<dyn EventLog>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let log: Arc<dyn EventLog> =
        Arc::new(EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("open"));
    Setup { _dir: dir, log }
}

fn pipeline(log: &Arc<dyn EventLog>) -> CommandPipeline {
    CommandPipeline::new(Arc::clone(log), PipelineConfig::default())
}

fn alice() -> CommandContext {
    CommandContext::new(Actor::user("alice"))
}

async fn balance(log: &Arc<dyn EventLog>, id: &str) -> u64 {
    let stream = StreamId::for_aggregate("account", id).expect("stream");
    let events = log
        .read_stream(&stream, 0, Direction::Forward, 100_000)
        .await
        .expect("read");
    let decoded: Vec<AccountEvent> = events.iter().map(|e| e.decode().expect("decode")).collect();
    Account::from_history(decoded.iter()).balance
}

#[tokio::test]
async fn events_carry_the_command_context_and_the_outcome_their_position() {
    let Setup { log, _dir } = setup();
    let pipeline = pipeline(&log);
    let mut context = alice().with_command_id("cmd-1");
    context.causation_id = Some(uuid::Uuid::now_v7());
    context.traceparent = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned());
    let outcome = pipeline
        .execute::<Account>("a1", &AccountCommand::DepositTwice(5), &context)
        .await
        .expect("deposit");
    assert_eq!(
        (outcome.version, outcome.events, outcome.replayed),
        (Some(1), 2, false)
    );
    assert_eq!(outcome.position, log.head().await.expect("head"));
    let stream = StreamId::parse("account-a1").expect("stream");
    let stored = log
        .read_stream(&stream, 0, Direction::Forward, 10)
        .await
        .expect("read");
    assert_eq!(stored.len(), 2);
    for event in &stored {
        assert_eq!(event.event_type, "account.deposited");
        assert_eq!(event.metadata.actor, Actor::user("alice"));
        assert_eq!(event.metadata.correlation_id, context.correlation_id);
        assert_eq!(event.metadata.causation_id, context.causation_id);
        assert_eq!(event.metadata.traceparent, context.traceparent);
        assert_eq!(event.metadata.command_id.as_deref(), Some("cmd-1"));
    }
}

#[tokio::test]
async fn a_retried_command_returns_the_first_result_and_appends_nothing() {
    let Setup { log, _dir } = setup();
    let context = alice().with_command_id("deposit-once");
    let first = pipeline(&log)
        .execute::<Account>("a1", &AccountCommand::Deposit(10), &context)
        .await
        .expect("first");
    let head = log.head().await.expect("head");
    let same_process = pipeline(&log);
    same_process
        .execute::<Account>("a1", &AccountCommand::Deposit(1), &alice())
        .await
        .expect("other");
    let head_after_other = log.head().await.expect("head");
    // A retry from the same process (cached) and from a fresh one (a
    // restart: only the log remembers).
    for pipeline in [&same_process, &pipeline(&log)] {
        let retry = pipeline
            .execute::<Account>("a1", &AccountCommand::Deposit(10), &context)
            .await
            .expect("retry");
        assert!(retry.replayed);
        assert_eq!(
            (retry.position, retry.version, retry.events),
            (first.position, first.version, 1)
        );
        assert_eq!(retry.position, head);
    }
    assert_eq!(
        log.head().await.expect("head"),
        head_after_other,
        "a retry appended events"
    );
    assert_eq!(balance(&log, "a1").await, 11);
}

#[tokio::test]
async fn a_rejected_command_appends_nothing_and_says_why() {
    let Setup { log, _dir } = setup();
    let pipeline = pipeline(&log);
    pipeline
        .execute::<Account>("a1", &AccountCommand::Deposit(3), &alice())
        .await
        .expect("deposit");
    let head = log.head().await.expect("head");
    let err = pipeline
        .execute::<Account>("a1", &AccountCommand::Withdraw(5), &alice())
        .await
        .expect_err("overdraw");
    assert!(
        matches!(
            err,
            CommandError::Rejected(AccountError::InsufficientFunds {
                balance: 3,
                amount: 5
            })
        ),
        "{err:?}"
    );
    assert_eq!(log.head().await.expect("head"), head);
}

#[tokio::test]
async fn a_command_that_changes_nothing_reports_the_current_position() {
    let Setup { log, _dir } = setup();
    let pipeline = pipeline(&log);
    let deposit = pipeline
        .execute::<Account>("a1", &AccountCommand::Deposit(3), &alice())
        .await
        .expect("deposit");
    let noop = pipeline
        .execute::<Account>("a1", &AccountCommand::Deposit(0), &alice())
        .await
        .expect("no-op");
    assert_eq!(
        (noop.events, noop.position, noop.version),
        (0, deposit.position, deposit.version)
    );
    let fresh = pipeline
        .execute::<Account>("new", &AccountCommand::Deposit(0), &alice())
        .await
        .expect("no-op");
    assert_eq!((fresh.position, fresh.version), (Position::ZERO, None));
}

#[tokio::test]
async fn invalid_ids_are_refused() {
    let Setup { log, _dir } = setup();
    let pipeline = pipeline(&log);
    let err = pipeline
        .execute::<Account>("a b", &AccountCommand::Deposit(1), &alice())
        .await
        .expect_err("bad id");
    assert!(matches!(err, CommandError::Invalid(_)), "{err:?}");
    let err = pipeline
        .execute::<Account>("a1", &AccountCommand::Deposit(1), &alice().with_command_id(""))
        .await
        .expect_err("empty key");
    assert!(matches!(err, CommandError::Invalid(_)), "{err:?}");
}

/// Two pipelines (two processes) deposit into one account concurrently:
/// conflicts are retried and every deposit lands exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_in_two_processes_conflict_and_retry() {
    let Setup { log, _dir } = setup();
    let pipelines = [Arc::new(pipeline(&log)), Arc::new(pipeline(&log))];
    let deposits = (0..200u64).map(|i| {
        let pipeline = Arc::clone(&pipelines[(i % 2) as usize]);
        async move {
            pipeline
                .execute::<Account>("shared", &AccountCommand::Deposit(1), &alice())
                .await
        }
    });
    let outcomes = join_all(deposits).await;
    assert!(
        outcomes.iter().all(Result::is_ok),
        "{:?}",
        outcomes.iter().find(|o| o.is_err())
    );
    assert_eq!(balance(&log, "shared").await, 200);
    let mut versions: Vec<u64> = outcomes
        .into_iter()
        .map(|o| o.expect("ok").version.expect("version"))
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (0..200).collect::<Vec<_>>());
}

/// The cache catches up on events another process appended.
#[tokio::test]
async fn the_cache_sees_other_writers() {
    let Setup { log, _dir } = setup();
    let a = pipeline(&log);
    let b = pipeline(&log);
    a.execute::<Account>("a1", &AccountCommand::Deposit(1), &alice())
        .await
        .expect("deposit");
    b.execute::<Account>("a1", &AccountCommand::Deposit(9), &alice())
        .await
        .expect("deposit elsewhere");
    let stream = StreamId::parse("account-a1").expect("stream");
    let direct = quire_domain::NewEvent::from_domain(
        &AccountEvent::Deposited(Deposited { amount: 90 }),
        quire_domain::EventMetadata::new(Actor::service("import")),
    );
    log.append(&stream, ExpectedVersion::Exact(1), vec![direct])
        .await
        .expect("direct append");
    a.execute::<Account>("a1", &AccountCommand::Withdraw(100), &alice())
        .await
        .expect("withdraw sees all deposits");
    assert_eq!(balance(&log, "a1").await, 0);
}
