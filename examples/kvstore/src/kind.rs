//! The store as a Faultline workload kind: its scenario keys, the resolve step, its
//! node families, its record, figures, series and checks.

use faultline::engine::disk::DiskConfig;
use faultline::engine::driver::Finished;
use faultline::engine::nodes::{Family, NodeFaults};
use faultline::engine::service::{ServiceHost, HOST_TRACE_KINDS};
use faultline::format::check::{BoundKind, CheckSpec, Direction, AVAILABILITY_AT_LEAST};
use faultline::format::{Dur, Issue, RunInfo};
use faultline::record::{core_summary, Invocation};
use faultline::workload::history::{self, LINEARIZABILITY_FIGURE, LINEARIZABLE};
use faultline::workload::{
    Context, EventEstimate, Kind, MemoryEstimate, MemoryPart, NumberLimit, Resolution,
};
use faultline_reports::figures::{
    Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesSpec, SeriesTable,
};
use faultline_reports::record::RunRecord;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::store::{StoreConfig, REPLICAS, VALUE_BASE};
use crate::{KvConfig, KvOutput, KvStore};

/// The replicas' node names: `replica-0` (the primary), `replica-1`, `replica-2`.
pub const REPLICA_PREFIX: &str = "replica-";
/// The clients' node names: `client-0`, ...
pub const CLIENT_PREFIX: &str = "client-";
/// Most clients.
pub const MAX_CLIENTS: u32 = 1_000;

/// The `workload` object of a store scenario (`"kind": "kvstore"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KvSpec {
    /// Clients, each with one request outstanding at a time (1 to 1,000).
    pub clients: u32,
    /// Keys the clients read and write (at least 1).
    #[serde(default = "default_keys")]
    pub keys: u64,
    /// Time between a client's answer and its next request.
    #[serde(default = "default_think")]
    pub think: Dur,
    /// How long a client waits for an answer before giving up.
    #[serde(default = "default_timeout")]
    pub timeout: Dur,
    /// Fraction of requests that are writes (0 to 1).
    #[serde(default = "default_write_fraction")]
    pub write_fraction: f64,
    /// The bug: the primary acknowledges a write before it is durable anywhere.
    #[serde(default)]
    pub ack_before_durable: bool,
}

fn default_keys() -> u64 {
    8
}
fn default_think() -> Dur {
    Dur::from_millis(20)
}
fn default_timeout() -> Dur {
    Dur::from_millis(200)
}
fn default_write_fraction() -> f64 {
    0.5
}

/// The store's kind (see the crate documentation).
pub struct Kv;

fn violations(count: f64, _bound: f64) -> String {
    if count == 0.0 {
        "no violation".to_owned()
    } else {
        format!("{count:.0} violations (the first ones are in summary.json: kvstore.examples)")
    }
}

/// The checks the store offers.
pub const CHECKS: &[CheckSpec] = &[
    CheckSpec {
        name: "acked_writes_survive",
        metric: "acked_writes_lost",
        bound: BoundKind::Flag,
        direction: Direction::Holds,
        describe: violations,
    },
    CheckSpec {
        name: "reads_see_writes",
        metric: "read_violations",
        bound: BoundKind::Flag,
        direction: Direction::Holds,
        describe: violations,
    },
    LINEARIZABLE,
    AVAILABILITY_AT_LEAST,
];

/// The store's figures.
pub const FIGURES: &[FigureSpec] = &[
    FigureSpec::new(
        "availability",
        "availability",
        "",
        Better::Higher,
        Quantity::Ratio,
        Aggregate::Mean,
        "Requests answered before their timeout, of the requests sent.",
    )
    .headline(),
    FigureSpec::new(
        "acked_writes_lost",
        "acknowledged writes lost",
        "writes",
        Better::Lower,
        Quantity::Count,
        Aggregate::FractionOfSeeds,
        "Writes a client was told are stored that are not in the primary's log at the end.",
    )
    .headline(),
    FigureSpec::new(
        "read_violations",
        "read violations",
        "reads",
        Better::Lower,
        Quantity::Count,
        Aggregate::FractionOfSeeds,
        "Reads that returned a value never written, or one older than a write acknowledged before they began.",
    )
    .headline(),
    LINEARIZABILITY_FIGURE.headline(),
    FigureSpec::new(
        "writes_acked",
        "writes acknowledged",
        "writes",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Writes answered as stored.",
    ),
    FigureSpec::new(
        "reads_answered",
        "reads answered",
        "reads",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Reads answered.",
    ),
    FigureSpec::new(
        "timeouts",
        "requests timed out",
        "requests",
        Better::Lower,
        Quantity::Count,
        Aggregate::Mean,
        "Requests the clients gave up on.",
    ),
    FigureSpec::new(
        "recoveries",
        "replica recoveries",
        "boots",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Replica boots after a crash, each replaying its log.",
    ),
];

/// The store's series.
pub const SERIES: &[SeriesSpec] = &[SeriesSpec {
    name: "answered_per_s",
    label: "requests answered",
    unit: "requests/s",
    quantity: Quantity::Rate,
    about: "Requests answered per second of simulated time.",
}];

fn issue(path: &str, message: impl Into<String>) -> Issue {
    Issue {
        path: format!("workload.{path}"),
        message: message.into(),
    }
}

impl Kind for Kv {
    const NAME: &'static str = "kvstore";
    type Spec = KvSpec;
    type World = ServiceHost<KvStore>;
    const CHECKS: &'static [CheckSpec] = CHECKS;
    const NUMBER_LIMITS: &'static [NumberLimit] = &[NumberLimit {
        path: "workload.clients",
        min: 1,
        max: MAX_CLIENTS,
        what: "clients",
    }];
    const FIGURES: &'static [FigureSpec] = FIGURES;
    const SERIES: &'static [SeriesSpec] = SERIES;
    const TRACE_KINDS: &'static [&'static str] = HOST_TRACE_KINDS;

    fn resolve(spec: &KvSpec, scenario: &Context<'_>) -> Result<Resolution<KvConfig>, Issue> {
        if spec.clients == 0 || spec.clients > MAX_CLIENTS {
            return Err(issue(
                "clients",
                format!("from 1 to {MAX_CLIENTS} clients, not {}", spec.clients),
            ));
        }
        if spec.keys == 0 {
            return Err(issue("keys", "at least 1 key"));
        }
        if spec.think.as_nanos() == 0 {
            return Err(issue("think", "a think time above 0"));
        }
        if spec.timeout.as_nanos() == 0 {
            return Err(issue("timeout", "a timeout above 0"));
        }
        if !(0.0..=1.0).contains(&spec.write_fraction) {
            return Err(issue("write_fraction", "a fraction from 0 to 1"));
        }
        let per_client = scenario.duration.as_nanos() / spec.think.as_nanos();
        if per_client >= VALUE_BASE {
            return Err(issue(
                "think",
                format!(
                    "at most {} requests per client (each write's value names its request): raise the think time",
                    VALUE_BASE - 1
                ),
            ));
        }
        // A request every think time per client at most, about 8 events each (timers,
        // messages, replication, fsyncs).
        let requests = f64::from(spec.clients) * scenario.duration.as_nanos() as f64
            / spec.think.as_nanos() as f64;
        let mut memory = MemoryEstimate::default();
        memory.add(MemoryPart {
            what: "request history",
            bytes: requests * 96.0,
            reckoning: format!("{requests:.0} requests x 96 bytes"),
            path: "workload.clients",
            advice: "lower workload.clients or raise workload.think",
        });
        Ok(Resolution {
            config: KvConfig {
                store: StoreConfig {
                    keys: spec.keys,
                    think_ns: spec.think.as_nanos(),
                    timeout_ns: spec.timeout.as_nanos(),
                    write_fraction: spec.write_fraction,
                    ack_before_durable: spec.ack_before_durable,
                },
                clients: spec.clients,
                disk: DiskConfig::default(),
            },
            families: vec![
                Family {
                    prefix: REPLICA_PREFIX,
                    count: REPLICAS,
                    hosted: true,
                    faults: NodeFaults {
                        slowdown: false,
                        ..NodeFaults::ALL
                    },
                },
                Family {
                    prefix: CLIENT_PREFIX,
                    count: spec.clients,
                    hosted: true,
                    faults: NodeFaults {
                        slowdown: false,
                        ..NodeFaults::ALL
                    },
                },
            ],
            events: EventEstimate {
                events: requests * 8.0,
                reckoning: format!("{requests:.0} requests x 8 events"),
                advice: "lower workload.clients or raise workload.think".to_owned(),
            },
            memory,
        })
    }

    fn record(
        run: &RunInfo,
        _config: &KvConfig,
        finished: &Finished<KvOutput>,
        invocation: &Invocation,
    ) -> RunRecord {
        let output = &finished.workload;
        let name = |node: u32| {
            output
                .names
                .get(node as usize)
                .cloned()
                .unwrap_or_else(|| format!("node {node}"))
        };
        let mut summary = core_summary(Self::NAME, &finished.core, run, invocation);
        summary.sections.insert(
            Self::NAME.to_owned(),
            serde_json::json!({
                "invoked": output.invoked,
                "writes_acked": output.writes_acked,
                "reads_answered": output.reads_answered,
                "timeouts": output.timeouts,
                "recoveries": output.recoveries,
                "acked_writes_lost": output.acked_writes_lost,
                "read_violations": output.read_violations,
                "final_log_records": output.final_log_records,
                "examples": output.examples,
                "answered_per_window": output.answered_per_window,
                "linearizability": output.linearizability.section(name),
                "linearizability_violations": output.linearizability.violations(),
            }),
        );
        RunRecord {
            summary,
            ..RunRecord::default()
        }
    }

    fn figures(record: &RunRecord) -> Vec<Option<f64>> {
        let section = &record.summary.sections[Self::NAME];
        let number = |key: &str| section[key].as_f64();
        let answered =
            number("writes_acked").unwrap_or(0.0) + number("reads_answered").unwrap_or(0.0);
        let invoked = number("invoked").unwrap_or(0.0);
        vec![
            (invoked > 0.0).then(|| answered / invoked),
            number("acked_writes_lost"),
            number("read_violations"),
            number("linearizability_violations"),
            number("writes_acked"),
            number("reads_answered"),
            number("timeouts"),
            number("recoveries"),
        ]
    }

    fn series(record: &RunRecord) -> SeriesTable {
        let window_s = record.summary.window_s;
        let counts: Vec<f64> = record.summary.sections[Self::NAME]["answered_per_window"]
            .as_array()
            .map(|counts| counts.iter().filter_map(|c| c.as_f64()).collect())
            .unwrap_or_default();
        SeriesTable {
            t_s: (0..counts.len()).map(|w| w as f64 * window_s).collect(),
            columns: vec![counts.iter().map(|c| c / window_s).collect()],
        }
    }

    fn tables(record: &RunRecord) -> Vec<RecordTable> {
        let section = &record.summary.sections[Self::NAME];
        let mut table = RecordTable::new(
            "violations",
            "Violations",
            "The first violations of acked_writes_survive and reads_see_writes.",
            &["violation"],
        );
        if let Some(examples) = section["examples"].as_array() {
            for example in examples {
                table.push(vec![example.as_str().unwrap_or_default().to_owned()]);
            }
        }
        let mut tables = vec![table];
        tables.push(history::witness_table(&section["linearizability"]));
        tables
    }

    fn explain(record: &RunRecord, figure: &str) -> Option<String> {
        let section = &record.summary.sections[Self::NAME];
        match figure {
            "linearizability_violations" => history::explain(&section["linearizability"]),
            "acked_writes_lost" | "read_violations" => {
                // Each check's examples start with what they are about.
                let about = if figure == "acked_writes_lost" {
                    "write of"
                } else {
                    "read of"
                };
                section["examples"]
                    .as_array()?
                    .iter()
                    .filter_map(|example| example.as_str())
                    .find(|example| example.starts_with(about))
                    .map(|first| format!("the first: {first}"))
            }
            _ => None,
        }
    }
}
