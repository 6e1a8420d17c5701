//! From global positions to JetStream sequences.
//!
//! Every message stores the position of its first event and its event
//! count, so the message at sequence `s` covers positions
//! `first ..= first + count - 1`. Positions and sequences increase
//! together, and `s <= first` (sequences start at 1 and every message holds
//! at least one event), so the message holding position `p` has a sequence
//! in `1 ..= min(last_seq, p)`. [`locate`] binary-searches that range with
//! probes "first message at or after sequence `s`", which also steps over
//! sequences the server no longer holds. [`PositionHints`], a bounded map
//! of messages seen recently, answers most lookups (a reader paging on, a
//! subscriber resuming) without a probe or narrows the range first.

use std::collections::BTreeMap;
use std::future::Future;

use quire_event_log::LogError;

/// Where one message sits: its sequence and the positions it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub seq: u64,
    pub first: u64,
    pub count: u64,
}

impl Span {
    pub fn last(&self) -> u64 {
        self.first + self.count - 1
    }

    pub fn contains(&self, position: u64) -> bool {
        self.first <= position && position <= self.last()
    }
}

/// Recently seen messages by first position; a cache, never a source of
/// truth (messages are immutable, so what it holds stays true).
#[derive(Debug)]
pub struct PositionHints {
    spans: BTreeMap<u64, Span>,
    capacity: usize,
}

impl PositionHints {
    pub fn new(capacity: usize) -> PositionHints {
        PositionHints {
            spans: BTreeMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers a message, forgetting the oldest beyond the capacity.
    pub fn record(&mut self, span: Span) {
        self.spans.insert(span.first, span);
        while self.spans.len() > self.capacity {
            self.spans.pop_first();
        }
    }

    /// The known message holding `position`, or the sequence range
    /// `lo..=hi` narrowed by the known messages around it.
    pub fn narrow(&self, position: u64, lo: u64, hi: u64) -> Result<Span, (u64, u64)> {
        let (mut lo, mut hi) = (lo, hi);
        if let Some((_, below)) = self.spans.range(..=position).next_back() {
            if below.contains(position) {
                return Ok(*below);
            }
            lo = lo.max(below.seq + 1);
        }
        if let Some((_, above)) = self.spans.range(position + 1..).next() {
            hi = hi.min(above.seq);
        }
        Err((lo, hi))
    }
}

/// Finds the first message whose last position is at least `position`,
/// searching sequences `lo..=hi`. `probe(s)` returns the first message at
/// or after sequence `s` (`None`: there is none).
pub async fn locate<P, F>(position: u64, lo: u64, hi: u64, mut probe: P) -> Result<Option<Span>, LogError>
where
    P: FnMut(u64) -> F,
    F: Future<Output = Result<Option<Span>, LogError>>,
{
    let first = match probe(lo).await? {
        None => return Ok(None),
        Some(span) if span.last() >= position => return Ok(Some(span)),
        Some(span) => span,
    };
    let (mut lo, mut hi) = (first.seq + 1, hi);
    let mut best = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        match probe(mid).await? {
            Some(span) if span.last() >= position => {
                best = Some(span);
                hi = mid - 1;
            }
            Some(span) => lo = span.seq + 1,
            None => hi = mid - 1,
        }
    }
    match best {
        Some(span) => Ok(Some(span)),
        None => Ok(probe(lo).await?.filter(|span| span.last() >= position)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::Cell;

    /// A log of messages with `counts` events each; `missing` sequences are
    /// gone (expired or deleted).
    fn log(counts: &[u64], missing: &[usize]) -> Vec<Span> {
        let mut first = 1;
        let mut spans = Vec::new();
        for (i, count) in counts.iter().enumerate() {
            if !missing.contains(&i) {
                spans.push(Span {
                    seq: i as u64 + 1,
                    first,
                    count: *count,
                });
            }
            first += count;
        }
        spans
    }

    fn find(spans: &[Span], position: u64, hints: &PositionHints) -> (Option<Span>, usize) {
        let probes = Cell::new(0);
        let last_seq = spans.last().map_or(0, |s| s.seq);
        let (lo, hi) = match hints.narrow(position, 1, last_seq.min(position)) {
            Ok(span) => return (Some(span), 0),
            Err(range) => range,
        };
        let probe = |seq: u64| {
            probes.set(probes.get() + 1);
            let found = spans.iter().find(|s| s.seq >= seq).copied();
            async move { Ok(found) }
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let found = runtime.block_on(locate(position, lo, hi, probe)).unwrap();
        (found, probes.get())
    }

    #[test]
    fn finds_a_position_in_the_middle_of_a_message() {
        let spans = log(&[1, 3, 2, 5, 1], &[]);
        let hints = PositionHints::new(8);
        assert_eq!(find(&spans, 3, &hints).0.map(|s| s.seq), Some(2));
        assert_eq!(find(&spans, 7, &hints).0.map(|s| s.seq), Some(4));
        assert_eq!(find(&spans, 12, &hints).0.map(|s| s.seq), Some(5));
        assert_eq!(find(&spans, 13, &hints).0, None);
    }

    #[test]
    fn hints_answer_without_probes_and_narrow_the_range() {
        let spans = log(&[2; 100], &[]);
        let mut hints = PositionHints::new(2);
        hints.record(spans[10]);
        hints.record(spans[20]);
        hints.record(spans[30]);
        assert_eq!(find(&spans, spans[30].first + 1, &hints), (Some(spans[30]), 0));
        assert!(find(&spans, spans[10].first, &hints).1 > 0, "evicted");
        assert_eq!(hints.narrow(spans[25].first, 1, 200), Err((22, 31)));
        let (found, probes) = find(&spans, spans[21].first, &hints);
        assert_eq!(
            (found, probes),
            (Some(spans[21]), 1),
            "the next message is probed first"
        );
    }

    proptest! {
        #[test]
        fn locate_finds_the_first_message_reaching_the_position(
            counts in proptest::collection::vec(1u64..5, 1..300),
            missing in proptest::collection::vec(0usize..300, 0..20),
            pick in any::<prop::sample::Index>(),
        ) {
            let spans = log(&counts, &missing);
            prop_assume!(!spans.is_empty());
            let total: u64 = counts.iter().sum();
            let position = 1 + pick.index(total as usize + 1) as u64;
            let expected = spans.iter().find(|s| s.last() >= position).copied();
            let (found, probes) = find(&spans, position, &PositionHints::new(4));
            prop_assert_eq!(found, expected);
            prop_assert!(probes <= 12, "{} probes", probes);
        }
    }
}
