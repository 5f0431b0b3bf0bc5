//! The linearizability checker through its public API only, as the simulator will call
//! it: a history built from invocations and completions, a verdict, its display.

use faultline_models::linearizability::{
    check, Budget, ClientId, Completion, History, HistoryError, KeyId, OpId, OpKind, Operation,
    Outcome, Verdict,
};

fn op(
    id: u64,
    key: u32,
    client: u32,
    invoke_ns: u64,
    kind: OpKind,
    done: Option<(u64, Outcome)>,
) -> Operation {
    Operation {
        id: OpId(id),
        key: KeyId(key),
        client: ClientId(client),
        invoke_ns,
        kind,
        completion: done.map(|(complete_ns, outcome)| Completion {
            complete_ns,
            outcome,
        }),
    }
}

/// A store that acknowledged a write and then served a stale read from another
/// replica, on one key of three; a client timed out on a third write.
fn stale_read_store() -> Vec<Operation> {
    vec![
        op(
            1,
            7,
            1,
            1_000,
            OpKind::Write(5),
            Some((2_500, Outcome::Written)),
        ),
        op(
            2,
            8,
            2,
            1_200,
            OpKind::Write(1),
            Some((1_900, Outcome::Written)),
        ),
        op(
            3,
            7,
            2,
            3_000,
            OpKind::Read,
            Some((3_400, Outcome::Read(5))),
        ),
        op(4, 7, 3, 4_000, OpKind::Write(6), None),
        op(
            5,
            9,
            1,
            4_100,
            OpKind::Cas {
                expected: 0,
                new: 2,
            },
            Some((4_600, Outcome::Cas(true))),
        ),
        op(
            6,
            7,
            1,
            12_000,
            OpKind::Read,
            Some((12_250, Outcome::Read(0))),
        ),
        op(
            7,
            8,
            1,
            12_000,
            OpKind::Read,
            Some((12_100, Outcome::Read(1))),
        ),
    ]
}

#[test]
fn stale_read_is_named_with_its_operations() {
    let history = History::from_ops(stale_read_store()).unwrap();
    let verdict = check(&history, &Budget::default());
    let Verdict::NotLinearizable { key, witness } = &verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    assert_eq!(*key, KeyId(7));
    // The read of 5 proves nothing and goes; so does the open write of 6, which
    // nothing reads (it may have happened, but cannot bring 0 back): the write that
    // was seen and the stale read stay.
    let ids: Vec<u64> = witness.ops.iter().map(|o| o.id.0).collect();
    assert_eq!(ids, vec![1, 6]);
    assert_eq!(
        verdict.to_string(),
        "not linearizable: key 7: 2 of its 4 operations have no linearization \
         (the register holds 0 before the first):\n\
         \x20 op 1  client 1    1,000..2,500 ns  write 5: ok\n\
         \x20 op 6  client 1  12,000..12,250 ns  read: 0\n"
    );
}

#[test]
fn the_same_history_without_the_stale_read_passes() {
    let mut ops = stale_read_store();
    ops.retain(|o| o.id != OpId(6));
    let history = History::from_ops(ops).unwrap();
    assert_eq!(check(&history, &Budget::default()), Verdict::Linearizable);
}

#[test]
fn verdicts_serialize_for_the_run_summary() {
    let history = History::from_ops(stale_read_store()).unwrap();
    let verdict = check(&history, &Budget::default());
    let json = serde_json::to_string(&verdict).unwrap();
    assert!(
        json.starts_with(r#"{"not_linearizable":{"key":7,"witness":{"key":7,"#),
        "{json}"
    );
    let back: Verdict = serde_json::from_str(&json).unwrap();
    assert_eq!(back, verdict);
}

#[test]
fn a_malformed_history_is_an_error_not_a_panic() {
    let mut ops = stale_read_store();
    ops[2].completion = Some(Completion {
        complete_ns: 2_999,
        outcome: Outcome::Read(5),
    });
    assert_eq!(
        History::from_ops(ops).unwrap_err(),
        HistoryError::CompletedBeforeInvoked {
            id: OpId(3),
            invoke_ns: 3_000,
            complete_ns: 2_999
        }
    );
}
