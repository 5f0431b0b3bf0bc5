//! Workloads: what the nodes of a run do, one folder each. A workload folder holds its
//! part of the scenario format (`spec`), its resolution into a typed config (with its
//! rules and limits), its state machine (an [`engine::workload::Workload`]), its trace
//! vocabulary, its checks and its record section.
//!
//! A new built-in workload is its folder plus one line in [`registry!`] below: the
//! macro makes the scenario's `workload` object (selected by `"kind"`), its JSON Schema,
//! the resolved config and the run's output into enums over the built-in kinds, and
//! dispatches on the kind once per run, so every workload runs through the kernel's
//! generic driver, monomorphic. A kind written outside the crate joins them at run time
//! with [`register`] (see [`registry`]): the enums' `Registered` variant holds it, its
//! types erased, and it too is dispatched once per run into the monomorphic driver.
//!
//! [`engine::workload::Workload`]: crate::engine::workload::Workload

use std::fmt;

use faultline_reports::figures::{
    self, FigureSpec, RecordTable, SeriesInfo, SeriesSpec, SeriesTable,
};
use faultline_reports::record::RunRecord;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::engine::driver::{self, CoreOutput, Finished};
use crate::engine::nodes::Family;
use crate::engine::plan::Plan;
use crate::engine::trace::TraceOptions;
use crate::engine::workload::Workload;
use crate::engine::{EngineError, TraceSink};
use crate::format::check::CheckSpec;
use crate::format::{Check, Dur, Fault, Issue, Metrics, Network, RandomFault, RunInfo, Slo};
use crate::record::Invocation;

/// What a workload reads of the rest of its scenario when it resolves its part: the
/// core of the file, without the `workload` object, so that workloads need not know the
/// whole-file type (which holds theirs).
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Simulated time to run.
    pub duration: Dur,
    /// Default network behaviour.
    pub network: &'a Network,
    /// Faults at fixed times.
    pub faults: &'a [Fault],
    /// Stochastic fault processes.
    pub random_faults: &'a [RandomFault],
    /// Metrics settings.
    pub metrics: &'a Metrics,
    /// Checks evaluated after the run.
    pub checks: &'a [Check],
    /// The service level objective.
    pub slo: &'a Slo,
}

/// What the registry needs of a workload kind besides its state machine.
pub trait Kind {
    /// Its `workload.kind`.
    const NAME: &'static str;
    /// Its keys in the scenario's `workload` object (besides `kind`).
    type Spec: Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + JsonSchema;
    /// Its state machine.
    type World: Workload<Config: Clone + fmt::Debug + Send + Sync, Output: fmt::Debug>;
    /// The checks it offers.
    const CHECKS: &'static [CheckSpec];
    /// Its whole-number fields with limits, for the messages of numbers too large for
    /// their type.
    const NUMBER_LIMITS: &'static [NumberLimit];

    /// Resolves its part of a scenario into a config, checking its limits and rules,
    /// with what it reads of the rest of the file in `scenario`; an [`Issue`]'s path
    /// names the field (`workload.clients.count`).
    fn resolve(
        spec: &Self::Spec,
        scenario: &Context<'_>,
    ) -> Result<Resolution<Config<Self>>, Issue>;

    /// The run record of a finished run, from what the resolve step kept of its
    /// scenario (`run`) and its config.
    fn record(
        run: &RunInfo,
        config: &Config<Self>,
        finished: &Finished<Output<Self>>,
        invocation: &Invocation,
    ) -> RunRecord;

    /// Its figures: one number per run each, named as the checks of [`Self::CHECKS`]
    /// read them. Records carry them with their declarations, so pages, comparisons and
    /// sweeps show them without knowing the workload.
    const FIGURES: &'static [FigureSpec];
    /// Its per-window series (`series.csv`).
    const SERIES: &'static [SeriesSpec];
    /// The `ev` names of its trace records (`faultline trace --kind` accepts these and
    /// the kernel's).
    const TRACE_KINDS: &'static [&'static str];

    /// The values of [`Self::FIGURES`], in their order, from the record [`Self::record`]
    /// built (`None`: not measured in this run).
    fn figures(record: &RunRecord) -> Vec<Option<f64>>;

    /// The values of [`Self::SERIES`], one column each in their order, one row per
    /// metrics window.
    fn series(record: &RunRecord) -> SeriesTable;

    /// Its tables (snapshots, recoveries), from the record.
    fn tables(record: &RunRecord) -> Vec<RecordTable>;

    /// More words for a failed check than its figure gives (the witness of a
    /// linearizability violation, from the record): appended to the check's detail, so
    /// the terminal, `summary.json` and the report show them.
    fn explain(_record: &RunRecord, _figure: &str) -> Option<String> {
        None
    }
}

/// The run record of a finished run of kind `K`: what [`Kind::record`] builds, with the
/// kind's declared figures, series and tables, and the scenario's checks evaluated on
/// the figures.
pub fn record_of<K: Kind>(
    run: &RunInfo,
    config: &Config<K>,
    finished: &Finished<Output<K>>,
    invocation: &Invocation,
) -> RunRecord {
    let mut record = K::record(run, config, finished, invocation);
    declare::<K>(&mut record);
    crate::record::evaluate_checks(&mut record, &run.checks, K::CHECKS);
    let explained: Vec<Option<String>> = record
        .summary
        .checks
        .iter()
        .map(|check| match (&check.figure, check.passed) {
            (Some(figure), false) => K::explain(&record, figure),
            _ => None,
        })
        .collect();
    for (check, more) in record.summary.checks.iter_mut().zip(explained) {
        if let Some(more) = more {
            check.detail = format!("{}: {more}", check.detail);
        }
    }
    record
}

/// Fills the generic part of a record from a kind's declarations: figures, series and
/// tables.
pub fn declare<K: Kind>(record: &mut RunRecord) {
    let values = K::figures(record);
    assert_eq!(
        values.len(),
        K::FIGURES.len(),
        "{}: a value per figure",
        K::NAME
    );
    record.summary.figures = figures::figures_of(K::FIGURES, values);
    record.summary.series = K::SERIES.iter().map(SeriesInfo::from).collect();
    record.series = K::series(record);
    debug_assert!(record.series.check(K::SERIES.len()).is_ok());
    record.summary.tables = K::tables(record);
}

/// A kind's resolved config.
pub type Config<K> = <<K as Kind>::World as Workload>::Config;
/// A kind's run output.
pub type Output<K> = <<K as Kind>::World as Workload>::Output;

/// A workload's part of a scenario, resolved.
#[derive(Clone, Debug)]
pub struct Resolution<C> {
    /// The typed config the run starts from.
    pub config: C,
    /// Its node families, in node-id order.
    pub families: Vec<Family>,
    /// The most engine events the run may take (an estimate, for the event limit).
    pub events: EventEstimate,
    /// The most memory the run may hold (an estimate, for the memory limit).
    pub memory: MemoryEstimate,
}

/// A whole-number field with a limit (`workload.clients.count`: 1 to 1,000,000 clients).
#[derive(Clone, Copy, Debug)]
pub struct NumberLimit {
    /// Field path.
    pub path: &'static str,
    /// Smallest value allowed.
    pub min: u64,
    /// Largest value allowed.
    pub max: u32,
    /// What is counted (`"clients"`).
    pub what: &'static str,
}

/// An estimate of a run's events, and how it was reached (for the limit's message).
#[derive(Clone, Debug)]
pub struct EventEstimate {
    /// Events.
    pub events: f64,
    /// How they were counted, in words (`"1000 requests x 4 attempts x 6 events"`).
    pub reckoning: String,
    /// What to lower to stay under the limit (field paths).
    pub advice: String,
}

/// An estimate of the memory a run holds at its peak, part by part (for the memory
/// limit's message, which names the largest part).
#[derive(Clone, Debug, Default)]
pub struct MemoryEstimate {
    /// The parts that grow with the scenario (the fixed base is not among them).
    pub parts: Vec<MemoryPart>,
}

/// One part of a [`MemoryEstimate`].
#[derive(Clone, Debug)]
pub struct MemoryPart {
    /// What holds the memory (`"offline queues"`).
    pub what: &'static str,
    /// Bytes.
    pub bytes: f64,
    /// How they were counted (`"100000 clients x 195 held requests x 150 bytes"`).
    pub reckoning: String,
    /// The field that sizes it most (the limit's message points at it).
    pub path: &'static str,
    /// What to change to make it smaller (`"lower workload.clients.count"`).
    pub advice: &'static str,
}

impl MemoryEstimate {
    /// Adds a part (parts of no bytes are left out).
    pub fn add(&mut self, part: MemoryPart) {
        if part.bytes > 0.0 || part.bytes.is_nan() {
            self.parts.push(part);
        }
    }

    /// Bytes of every part together.
    pub fn bytes(&self) -> f64 {
        self.parts.iter().map(|part| part.bytes).sum()
    }

    /// The largest part.
    pub fn largest(&self) -> Option<&MemoryPart> {
        self.parts.iter().max_by(|a, b| a.bytes.total_cmp(&b.bytes))
    }
}

pub use crate::format::strict::{NestedError, NESTED_MARK};

/// Reads one kind's keys from the rest of the `workload` object, keeping serde's path
/// (and refusing a list where an object is required, see [`crate::format::strict`]).
fn read_spec<S: DeserializeOwned>(rest: Value) -> Result<S, NestedError> {
    crate::format::strict::deserialize(rest).map_err(|err| NestedError {
        path: err.path().to_string(),
        message: err.into_inner().to_string(),
    })
}

/// A kind's schema: its spec's keys plus `"kind": NAME`.
fn tagged_schema<S: JsonSchema>(generator: &mut SchemaGenerator, name: &str) -> Schema {
    let mut schema = S::json_schema(generator);
    if let Some(object) = schema.as_object_mut() {
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            properties.insert(
                "kind".to_owned(),
                serde_json::json!({"const": name, "description": "The workload kind."}),
            );
        }
        match object.get_mut("required") {
            Some(Value::Array(required)) => required.insert(0, Value::from("kind")),
            _ => {
                object.insert("required".to_owned(), serde_json::json!(["kind"]));
            }
        }
    }
    schema
}

/// Serializes a kind's spec with its `kind` first.
#[derive(Serialize)]
struct Tagged<'a, S> {
    kind: &'static str,
    #[serde(flatten)]
    spec: &'a S,
}

/// What a registered kind declares: its figures, series and checks.
#[derive(Clone, Copy, Debug)]
pub struct Declared {
    /// Its `workload.kind`.
    pub kind: &'static str,
    /// Its figures.
    pub figures: &'static [FigureSpec],
    /// Its series.
    pub series: &'static [SeriesSpec],
    /// Its checks.
    pub checks: &'static [CheckSpec],
}

/// Registers the workload kinds: `Variant => module::Kind`, one line each; the line
/// declares the kind's folder (`module`) too.
macro_rules! registry {
    ($($variant:ident => $module:ident :: $kind_name:ident),+ $(,)?) => {
        $(pub mod $module;)+
        registry!(@kinds $($variant => $module::$kind_name),+);
    };
    (@kinds $($variant:ident => $kind:ty),+) => {
        /// The scenario's `workload` object: its `"kind"` and that kind's keys.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)] // one per scenario
        pub enum WorkloadSpec {
            $(
                #[doc = concat!("`", stringify!($variant), "`.")]
                $variant(<$kind as Kind>::Spec),
            )+
            /// A kind registered with [`register`].
            Registered(RegisteredSpec),
        }

        /// A workload resolved into its typed config.
        #[derive(Clone, Debug)]
        #[allow(clippy::large_enum_variant)] // one per scenario
        pub enum WorkloadConfig {
            $(
                #[doc = concat!("`", stringify!($variant), "`.")]
                $variant(Config<$kind>),
            )+
            /// A kind registered with [`register`].
            Registered(RegisteredConfig),
        }

        /// A finished run of some workload.
        #[derive(Debug)]
        #[allow(clippy::large_enum_variant)] // one per run
        pub enum RunOutput {
            $(
                #[doc = concat!("`", stringify!($variant), "`.")]
                $variant(Finished<Output<$kind>>),
            )+
            /// A kind registered with [`register`].
            Registered(RegisteredOutput),
        }

        /// The built-in kinds' names.
        pub const KINDS: &[&str] = &[$(<$kind as Kind>::NAME),+];

        /// The Rust type of the built-in kind named `name`.
        fn built_in_type(name: &str) -> Option<std::any::TypeId> {
            $(
                if name == <$kind as Kind>::NAME {
                    return Some(std::any::TypeId::of::<$kind>());
                }
            )+
            None
        }

        /// Every kind's name: the built-in ones, then those registered with [`register`].
        pub fn kinds() -> Vec<&'static str> {
            let mut kinds = KINDS.to_vec();
            kinds.extend(registry::registered().iter().map(|kind| kind.name()));
            kinds
        }

        /// The trace record kinds of workload `kind`; `None` for an unknown kind.
        pub fn trace_kinds(kind: &str) -> Option<&'static [&'static str]> {
            $(
                if kind == <$kind as Kind>::NAME {
                    return Some(<$kind as Kind>::TRACE_KINDS);
                }
            )+
            registry::find(kind).map(|kind| kind.trace_kinds())
        }

        /// The trace record kinds of every kind, built-in and registered.
        pub fn all_trace_kinds() -> Vec<&'static str> {
            let mut kinds: Vec<&'static str> = Vec::new();
            $(kinds.extend_from_slice(<$kind as Kind>::TRACE_KINDS);)+
            for kind in registry::registered() {
                kinds.extend_from_slice(kind.trace_kinds());
            }
            kinds
        }

        /// What each kind declares, built-in and registered.
        pub fn declarations() -> Vec<Declared> {
            let mut declared = DECLARATIONS.to_vec();
            declared.extend(registry::registered().iter().map(|kind| kind.declared()));
            declared
        }

        /// What each built-in kind declares (for docs and tests).
        pub const DECLARATIONS: &[Declared] = &[$(Declared {
            kind: <$kind as Kind>::NAME,
            figures: <$kind as Kind>::FIGURES,
            series: <$kind as Kind>::SERIES,
            checks: <$kind as Kind>::CHECKS,
        }),+];

        impl WorkloadSpec {
            /// The kind's name (`"rpc"`).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(WorkloadSpec::$variant(_) => <$kind as Kind>::NAME,)+
                    WorkloadSpec::Registered(spec) => spec.kind.name(),
                }
            }

            fn from_kind(kind: &str, rest: Value) -> Option<Result<Self, NestedError>> {
                $(
                    if kind == <$kind as Kind>::NAME {
                        return Some(read_spec(rest).map(WorkloadSpec::$variant));
                    }
                )+
                let kind = registry::find(kind)?;
                Some(kind.read_spec(rest).map(|spec| {
                    WorkloadSpec::Registered(RegisteredSpec { kind, spec })
                }))
            }

            /// The figures this kind declares.
            pub fn figures(&self) -> &'static [FigureSpec] {
                match self {
                    $(WorkloadSpec::$variant(_) => <$kind as Kind>::FIGURES,)+
                    WorkloadSpec::Registered(spec) => spec.kind.declared().figures,
                }
            }

            /// The checks this kind offers.
            pub fn checks(&self) -> &'static [CheckSpec] {
                match self {
                    $(WorkloadSpec::$variant(_) => <$kind as Kind>::CHECKS,)+
                    WorkloadSpec::Registered(spec) => spec.kind.declared().checks,
                }
            }

            /// Resolves this workload against the rest of its scenario (`scenario`).
            pub fn resolve(&self, scenario: &Context<'_>) -> Result<Resolution<WorkloadConfig>, Issue> {
                match self {
                    $(
                        WorkloadSpec::$variant(spec) => {
                            let resolution = <$kind as Kind>::resolve(spec, scenario)?;
                            Ok(Resolution {
                                config: WorkloadConfig::$variant(resolution.config),
                                families: resolution.families,
                                events: resolution.events,
                                memory: resolution.memory,
                            })
                        }
                    )+
                    WorkloadSpec::Registered(RegisteredSpec { kind, spec }) => {
                        let resolution = kind.resolve(spec.as_ref(), scenario)?;
                        Ok(Resolution {
                            config: WorkloadConfig::Registered(RegisteredConfig {
                                kind: kind.clone(),
                                config: resolution.config,
                            }),
                            families: resolution.families,
                            events: resolution.events,
                            memory: resolution.memory,
                        })
                    }
                }
            }
        }

        impl Serialize for WorkloadSpec {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(
                        WorkloadSpec::$variant(spec) => Tagged {
                            kind: <$kind as Kind>::NAME,
                            spec,
                        }
                        .serialize(serializer),
                    )+
                    WorkloadSpec::Registered(RegisteredSpec { kind, spec }) => kind
                        .spec_value(spec.as_ref())
                        .map_err(serde::ser::Error::custom)?
                        .serialize(serializer),
                }
            }
        }

        impl JsonSchema for WorkloadSpec {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Workload".into()
            }

            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                let mut kinds: Vec<Schema> = vec![
                    $(tagged_schema::<<$kind as Kind>::Spec>(generator, <$kind as Kind>::NAME),)+
                ];
                for kind in registry::registered() {
                    kinds.push(kind.schema(generator));
                }
                schemars::json_schema!({
                    "description": "What the nodes do: \"kind\" selects the workload, the other keys are that kind's.",
                    "oneOf": kinds
                })
            }
        }

        /// The whole-number limits of every registered kind.
        pub fn number_limits() -> Vec<NumberLimit> {
            let mut limits = Vec::new();
            $(limits.extend_from_slice(<$kind as Kind>::NUMBER_LIMITS);)+
            for kind in registry::registered() {
                limits.extend_from_slice(kind.number_limits());
            }
            limits
        }

        /// Every check name of every registered kind (for the schema).
        pub fn all_check_names() -> Vec<&'static str> {
            let mut names: Vec<&'static str> = Vec::new();
            $(names.extend(<$kind as Kind>::CHECKS.iter().map(|check| check.name));)+
            for kind in registry::registered() {
                names.extend(kind.declared().checks.iter().map(|check| check.name));
            }
            names.sort_unstable();
            names.dedup();
            names
        }

        /// Runs a resolved workload `config` on the kernel's `plan` at `seed` on the
        /// current thread (see [`driver::run`]).
        pub fn simulate(
            config: &WorkloadConfig,
            plan: &Plan,
            seed: u64,
            trace_lines: TraceSink,
        ) -> Result<RunOutput, EngineError> {
            simulate_with(
                config,
                plan,
                seed,
                TraceOptions {
                    lines: trace_lines,
                    ..TraceOptions::default()
                },
            )
        }

        /// [`simulate`], with the trace's diagnostics ([`TraceOptions`]).
        pub fn simulate_with(
            config: &WorkloadConfig,
            plan: &Plan,
            seed: u64,
            trace: TraceOptions,
        ) -> Result<RunOutput, EngineError> {
            match config {
                $(
                    WorkloadConfig::$variant(config) => {
                        driver::run_with::<<$kind as Kind>::World>(config, plan, seed, trace)
                            .map(RunOutput::$variant)
                    }
                )+
                // Dispatched once per run; the driver inside is monomorphic in the kind.
                WorkloadConfig::Registered(RegisteredConfig { kind, config }) => kind
                    .simulate(config.as_ref(), plan, seed, trace)
                    .map(|finished| {
                        RunOutput::Registered(RegisteredOutput {
                            kind: kind.name(),
                            finished,
                        })
                    }),
            }
        }

        impl RunOutput {
            /// The kernel's part of the output.
            pub fn core(&self) -> &CoreOutput {
                match self {
                    $(RunOutput::$variant(finished) => &finished.core,)+
                    RunOutput::Registered(output) => output.finished.core(),
                }
            }

            /// The run record of a run of `config`, with what the resolve step kept of
            /// its scenario (`run`), its checks evaluated (`ResolvedScenario`'s
            /// `record` takes both from a resolved scenario).
            pub fn record_of(
                &self,
                config: &WorkloadConfig,
                run: &RunInfo,
                invocation: &Invocation,
            ) -> RunRecord {
                match (self, config) {
                    $(
                        (RunOutput::$variant(finished), WorkloadConfig::$variant(config)) => {
                            record_of::<$kind>(run, config, finished, invocation)
                        }
                    )+
                    (
                        RunOutput::Registered(output),
                        WorkloadConfig::Registered(RegisteredConfig { kind, config }),
                    ) => kind.record(output.finished.as_ref(), config.as_ref(), run, invocation),
                    _ => crate::record::mismatched(self.core(), run, invocation),
                }
            }
        }
    };
}

pub mod history;
pub mod registry;

pub use registry::{
    register, DynKind, RegisteredConfig, RegisteredOutput, RegisteredSpec, Registrable,
};

registry! {
    Rpc => rpc::Rpc,
    Bank => bank::Bank,
}

impl<'de> Deserialize<'de> for WorkloadSpec {
    /// Reads the object whole, then its kind's keys with a path of their own (a derived
    /// internally tagged enum would buffer the object and lose every path inside it).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = match Value::deserialize(deserializer)? {
            Value::Object(object) => object,
            other => {
                return Err(de::Error::invalid_type(
                    unexpected(&other),
                    &"an object such as {\"kind\": \"rpc\", ...}",
                ))
            }
        };
        let kind = match object.remove("kind") {
            Some(Value::String(kind)) => kind,
            Some(_) => {
                return Err(de::Error::custom(NestedError {
                    path: "kind".to_owned(),
                    message: format!("the kind is a name: one of {}", quoted(&kinds())),
                }))
            }
            None => return Err(de::Error::missing_field("kind")),
        };
        match WorkloadSpec::from_kind(&kind, Value::Object(object)) {
            Some(Ok(spec)) => Ok(spec),
            Some(Err(nested)) => Err(de::Error::custom(nested)),
            None => Err(de::Error::custom(NestedError {
                path: "kind".to_owned(),
                message: unknown_kind(&kind),
            })),
        }
    }
}

/// The message of an unknown kind: serde's, naming every kind, built-in and registered.
fn unknown_kind(kind: &str) -> String {
    let names: Vec<String> = kinds().iter().map(|name| format!("`{name}`")).collect();
    let expected = match names.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    };
    format!("unknown variant `{kind}`, expected {expected}")
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_declares_distinct_figures_and_its_checks_read_them() {
        for declared in DECLARATIONS {
            let mut names: Vec<&str> = declared.figures.iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), declared.figures.len(), "{}", declared.kind);
            for check in declared.checks {
                assert!(
                    names.contains(&check.metric),
                    "{}: check {} reads {}, which no figure declares",
                    declared.kind,
                    check.name,
                    check.metric
                );
            }
            let mut series: Vec<&str> = declared.series.iter().map(|s| s.name).collect();
            series.sort_unstable();
            series.dedup();
            assert_eq!(series.len(), declared.series.len(), "{}", declared.kind);
        }
    }
}
