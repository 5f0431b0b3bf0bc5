//! Kinds registered while the program runs: a [`Kind`] written outside the crate joins
//! the built-in ones with [`register`], and from then on scenario files with its
//! `"kind"` load, validate, run and go through every command.
//!
//! The registry is process-wide (sweeps run seeds on worker threads, and serde's
//! `Deserialize` takes no argument to thread it through). A kind is reached through
//! [`DynKind`], an object-safe face implemented for every `K: Kind`; its methods take
//! and return type-erased specs, configs and outputs and call the kind's monomorphic
//! code inside, so the dynamic step happens once per resolve and once per run, never in
//! the kernel's loop. The built-in kinds stay variants of their own.

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use faultline_reports::record::RunRecord;
use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

use super::{read_spec, tagged_schema, Config, Context, Declared, Kind, NumberLimit, Output};
use super::{NestedError, Resolution, Tagged};
use crate::engine::driver::{self, CoreOutput, Finished};
use crate::engine::plan::Plan;
use crate::engine::trace::TraceOptions;
use crate::engine::workload::Workload;
use crate::engine::EngineError;
use crate::format::{Issue, RunInfo};
use crate::record::Invocation;

/// A registered kind, its types erased: what the registry calls on it.
pub trait DynKind: Send + Sync + 'static {
    /// Its `workload.kind`.
    fn name(&self) -> &'static str;
    /// The Rust type that implements it (a name is refused to a second type).
    fn kind_type(&self) -> TypeId;
    /// Its figures, series and checks.
    fn declared(&self) -> Declared;
    /// The `ev` names of its trace records.
    fn trace_kinds(&self) -> &'static [&'static str];
    /// Its whole-number fields with limits.
    fn number_limits(&self) -> &'static [NumberLimit];
    /// Its JSON Schema, with `"kind"`.
    fn schema(&self, generator: &mut SchemaGenerator) -> Schema;
    /// Reads its keys (the `workload` object without `kind`), keeping serde's path.
    fn read_spec(&self, rest: Value) -> Result<Arc<dyn Any + Send + Sync>, NestedError>;
    /// Whether two of its specs are equal.
    fn spec_eq(&self, a: &dyn Any, b: &dyn Any) -> bool;
    /// Its spec as the scenario's `workload` object, `kind` first.
    fn spec_value(&self, spec: &dyn Any) -> Result<Value, String>;
    /// Debug text of one of its specs or configs.
    fn debug(&self, value: &dyn Any, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// [`Kind::resolve`].
    fn resolve(
        &self,
        spec: &dyn Any,
        scenario: &Context<'_>,
    ) -> Result<Resolution<Arc<dyn Any + Send + Sync>>, Issue>;
    /// Runs one of its configs through the kernel's driver, monomorphic in its world.
    fn simulate(
        &self,
        config: &dyn Any,
        plan: &Plan,
        seed: u64,
        trace: TraceOptions,
    ) -> Result<Box<dyn ErasedFinished>, EngineError>;
    /// [`super::record_of`] on one of its configs and outputs.
    fn record(
        &self,
        output: &dyn ErasedFinished,
        config: &dyn Any,
        run: &RunInfo,
        invocation: &Invocation,
    ) -> RunRecord;
}

/// A finished run of a registered kind, its workload's output type erased.
pub trait ErasedFinished: Send + fmt::Debug + 'static {
    /// The kernel's part.
    fn core(&self) -> &CoreOutput;
    /// The whole [`Finished`], for a downcast.
    fn as_any(&self) -> &dyn Any;
}

impl<O: Send + fmt::Debug + 'static> ErasedFinished for Finished<O> {
    fn core(&self) -> &CoreOutput {
        &self.core
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A [`Kind`] that can be registered: one whose spec, config and output may cross
/// threads (every `Kind` whose types are `'static` and whose spec and output are
/// `Send`; the spec `Sync` too).
pub trait Registrable:
    Kind<Spec: Send + Sync + 'static, World: Workload<Config: 'static, Output: Send + 'static>>
    + 'static
{
}

impl<K> Registrable for K where
    K: Kind<Spec: Send + Sync + 'static, World: Workload<Config: 'static, Output: Send + 'static>>
        + 'static
{
}

/// The [`DynKind`] of `K`.
struct Entry<K>(PhantomData<fn() -> K>);

impl<K> DynKind for Entry<K>
where
    K: Registrable,
{
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn kind_type(&self) -> TypeId {
        TypeId::of::<K>()
    }

    fn declared(&self) -> Declared {
        Declared {
            kind: K::NAME,
            figures: K::FIGURES,
            series: K::SERIES,
            checks: K::CHECKS,
        }
    }

    fn trace_kinds(&self) -> &'static [&'static str] {
        K::TRACE_KINDS
    }

    fn number_limits(&self) -> &'static [NumberLimit] {
        K::NUMBER_LIMITS
    }

    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        tagged_schema::<K::Spec>(generator, K::NAME)
    }

    fn read_spec(&self, rest: Value) -> Result<Arc<dyn Any + Send + Sync>, NestedError> {
        read_spec::<K::Spec>(rest).map(|spec| Arc::new(spec) as Arc<dyn Any + Send + Sync>)
    }

    fn spec_eq(&self, a: &dyn Any, b: &dyn Any) -> bool {
        match (a.downcast_ref::<K::Spec>(), b.downcast_ref::<K::Spec>()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    fn spec_value(&self, spec: &dyn Any) -> Result<Value, String> {
        let spec = spec
            .downcast_ref::<K::Spec>()
            .ok_or_else(|| format!("a spec of another kind than {}", K::NAME))?;
        serde_json::to_value(Tagged {
            kind: K::NAME,
            spec,
        })
        .map_err(|err| err.to_string())
    }

    fn debug(&self, value: &dyn Any, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(spec) = value.downcast_ref::<K::Spec>() {
            write!(f, "{}({spec:?})", K::NAME)
        } else if let Some(config) = value.downcast_ref::<Config<K>>() {
            write!(f, "{}({config:?})", K::NAME)
        } else {
            write!(f, "{}(?)", K::NAME)
        }
    }

    fn resolve(
        &self,
        spec: &dyn Any,
        scenario: &Context<'_>,
    ) -> Result<Resolution<Arc<dyn Any + Send + Sync>>, Issue> {
        let spec = spec.downcast_ref::<K::Spec>().ok_or_else(|| Issue {
            path: "workload".to_owned(),
            message: format!("a spec of another kind than {} (a bug)", K::NAME),
        })?;
        let resolution = K::resolve(spec, scenario)?;
        Ok(Resolution {
            config: Arc::new(resolution.config),
            families: resolution.families,
            events: resolution.events,
            memory: resolution.memory,
        })
    }

    fn simulate(
        &self,
        config: &dyn Any,
        plan: &Plan,
        seed: u64,
        trace: TraceOptions,
    ) -> Result<Box<dyn ErasedFinished>, EngineError> {
        let config = config.downcast_ref::<Config<K>>().ok_or_else(|| {
            EngineError::Invariant(format!("a config of another kind than {}", K::NAME))
        })?;
        let finished = driver::run_with::<K::World>(config, plan, seed, trace)?;
        Ok(Box::new(finished))
    }

    fn record(
        &self,
        output: &dyn ErasedFinished,
        config: &dyn Any,
        run: &RunInfo,
        invocation: &Invocation,
    ) -> RunRecord {
        match (
            output.as_any().downcast_ref::<Finished<Output<K>>>(),
            config.downcast_ref::<Config<K>>(),
        ) {
            (Some(finished), Some(config)) => {
                super::record_of::<K>(run, config, finished, invocation)
            }
            _ => crate::record::mismatched(output.core(), run, invocation),
        }
    }
}

/// The registered kinds, in the order they were registered.
static REGISTERED: RwLock<Vec<Arc<dyn DynKind>>> = RwLock::new(Vec::new());

/// Registers kind `K`, so scenario files with `"kind": K::NAME` load, validate and run
/// in this process. Registering the same kind again (or a built-in kind) does nothing;
/// a name that a built-in kind or another type already has is refused.
pub fn register<K>() -> Result<(), String>
where
    K: Registrable,
{
    if let Some(built_in) = super::built_in_type(K::NAME) {
        if built_in == TypeId::of::<K>() {
            return Ok(());
        }
        return Err(format!(
            "cannot register the workload kind {:?}: a built-in kind has that name",
            K::NAME
        ));
    }
    let mut registered = REGISTERED
        .write()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(taken) = registered.iter().find(|kind| kind.name() == K::NAME) {
        if taken.kind_type() == TypeId::of::<K>() {
            return Ok(());
        }
        return Err(format!(
            "cannot register the workload kind {:?}: another kind has that name",
            K::NAME
        ));
    }
    registered.push(Arc::new(Entry::<K>(PhantomData)));
    Ok(())
}

/// The registered kind named `name`.
pub fn find(name: &str) -> Option<Arc<dyn DynKind>> {
    registered().into_iter().find(|kind| kind.name() == name)
}

/// Every registered kind, sorted by name (so what is built from them, a schema or a
/// list of names, does not depend on the order of registration).
pub fn registered() -> Vec<Arc<dyn DynKind>> {
    let mut kinds = REGISTERED
        .read()
        .unwrap_or_else(|poison| poison.into_inner())
        .clone();
    kinds.sort_by_key(|kind| kind.name());
    kinds
}

/// The `workload` object of a registered kind, read.
#[derive(Clone)]
pub struct RegisteredSpec {
    /// Its kind.
    pub kind: Arc<dyn DynKind>,
    /// Its keys, typed as `kind`'s spec.
    pub spec: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for RegisteredSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.debug(self.spec.as_ref(), f)
    }
}

impl PartialEq for RegisteredSpec {
    fn eq(&self, other: &Self) -> bool {
        self.kind.kind_type() == other.kind.kind_type()
            && self.kind.spec_eq(self.spec.as_ref(), other.spec.as_ref())
    }
}

/// The resolved config of a registered kind.
#[derive(Clone)]
pub struct RegisteredConfig {
    /// Its kind.
    pub kind: Arc<dyn DynKind>,
    /// The config, typed as `kind`'s.
    pub config: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for RegisteredConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.debug(self.config.as_ref(), f)
    }
}

/// A finished run of a registered kind.
#[derive(Debug)]
pub struct RegisteredOutput {
    /// Its kind's name.
    pub kind: &'static str,
    /// The run, typed as `Finished<Output<K>>`.
    pub finished: Box<dyn ErasedFinished>,
}

impl RegisteredOutput {
    /// The workload's output of a run of kind `K` (`None` for another kind).
    pub fn downcast<K: Kind>(&self) -> Option<&Finished<Output<K>>>
    where
        Output<K>: 'static,
    {
        self.finished.as_any().downcast_ref()
    }
}
