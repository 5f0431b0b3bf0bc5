//! The driver as a coroutine that resumes right after the process it waits for.
//!
//! A process workload's driver wakes one process task and yields until that task waits
//! again ([`super::process::ProcessTable::settle`]). If the driver were an ordinary
//! madsim task, each step would cost two of madsim's task polls: the process's, then
//! the driver's, each with madsim's ready-queue lock, random pick, panic guard and
//! clock advance. Instead, while the driver waits for a process, its future is parked
//! here, and the host resumes it inline after every poll of a process's task
//! ([`task_polled`]), in the same scheduler slot. So a step costs one madsim poll, and
//! still exactly one task is ever ready: the process the driver woke.
//!
//! The run's main task owns the parking place ([`run`]) and polls the driver itself
//! whenever madsim polls it: at the start, and whenever the driver must act on madsim's
//! nodes (kill, restart, pause, resume), which it does from the main task, never from
//! inside a process's poll ([`on_main`]).
//!
//! # Invariants
//!
//! - The driver's future is polled by one caller at a time: the main task, or the hook
//!   after a process's poll has returned (madsim polls one task at a time, and neither
//!   polls a process).
//! - The hook resumes the driver only if the driver asked for it
//!   ([`resume_after_next_poll`]) since it last ran; otherwise a process's poll leaves
//!   the driver alone.
//! - Whatever else the driver awaits registers the main task's waker, so the main task
//!   runs it then.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A parked driver.
struct Coroutine {
    /// `None` once the driver has finished.
    future: RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    /// The main task's waker (set whenever the main task polls).
    main: RefCell<Option<Waker>>,
    /// The driver waits for a process: resume it after the next process poll.
    resume: Cell<bool>,
    /// The hook is running the driver (inside a process's poll).
    inline: Cell<bool>,
}

impl Coroutine {
    /// Polls the driver once with `cx`; true once it has finished (now or before).
    fn poll_driver(&self, cx: &mut Context<'_>) -> bool {
        let mut future = self.future.borrow_mut();
        let Some(driver) = future.as_mut() else {
            return true;
        };
        if driver.as_mut().poll(cx).is_ready() {
            *future = None;
            return true;
        }
        false
    }
}

thread_local! {
    /// The driver of the simulation running on this thread, while [`run`] runs.
    static DRIVER: RefCell<Option<Rc<Coroutine>>> = const { RefCell::new(None) };
}

/// Runs `driver` to completion as the hand-off coroutine (see the module
/// documentation): await this from the run's main task.
pub async fn run<T: 'static>(driver: impl Future<Output = T> + 'static) -> T {
    let result: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&result);
    let coroutine = Rc::new(Coroutine {
        future: RefCell::new(Some(Box::pin(async move {
            let value = driver.await;
            *slot.borrow_mut() = Some(value);
        }))),
        main: RefCell::new(None),
        resume: Cell::new(false),
        inline: Cell::new(false),
    });
    DRIVER.with(|current| {
        let mut current = current.borrow_mut();
        assert!(
            current.is_none(),
            "one hand-off driver per thread at a time"
        );
        *current = Some(Rc::clone(&coroutine));
    });
    let _uninstall = Uninstall;
    Main {
        coroutine: &coroutine,
    }
    .await;
    let value = result.borrow_mut().take();
    value.expect("a finished driver left its result")
}

/// Clears the thread's driver when [`run`] ends, however it ends.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        DRIVER.with(|current| current.borrow_mut().take());
    }
}

/// The main task's side: polls the driver until it has finished.
struct Main<'a> {
    coroutine: &'a Coroutine,
}

impl Future for Main<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coroutine = self.coroutine;
        {
            let mut main = coroutine.main.borrow_mut();
            if !main
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                *main = Some(cx.waker().clone());
            }
        }
        coroutine.resume.set(false);
        if coroutine.poll_driver(cx) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Called by the host after every poll of a process's task: resumes the driver if it
/// asked to be ([`resume_after_next_poll`]).
#[inline]
pub fn task_polled() {
    let Some(coroutine) = DRIVER.with(|current| {
        current
            .borrow()
            .as_ref()
            .filter(|coroutine| coroutine.resume.get())
            .cloned()
    }) else {
        return;
    };
    coroutine.resume.set(false);
    let main = coroutine.main.borrow();
    let main = main
        .as_ref()
        .expect("the main task polled the driver before it waited for a process");
    let mut cx = Context::from_waker(main);
    coroutine.inline.set(true);
    let finished = coroutine.poll_driver(&mut cx);
    coroutine.inline.set(false);
    if finished {
        // The main task collects the result.
        main.wake_by_ref();
    }
}

/// Whether the hook is running the driver now (inside a process's poll).
fn inline() -> bool {
    DRIVER.with(|current| {
        current
            .borrow()
            .as_ref()
            .is_some_and(|coroutine| coroutine.inline.get())
    })
}

/// Asks for the driver to be resumed after the next poll of a process's task (the
/// driver is about to return `Pending` while it waits for a process). Returns false,
/// asking nothing, when no hand-off driver runs on this thread: the caller must then
/// arrange its own wake-up.
pub fn resume_after_next_poll() -> bool {
    DRIVER.with(|current| match current.borrow().as_ref() {
        Some(coroutine) => {
            coroutine.resume.set(true);
            true
        }
        None => false,
    })
}

/// Completes once the driver runs on the main task (at once if it does already): await
/// this before acting on madsim's nodes, which must not happen inside a process's poll.
pub fn on_main() -> OnMain {
    OnMain
}

/// The future of [`on_main`].
pub struct OnMain;

impl Future for OnMain {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if inline() {
            // Polled by the hook, `cx` is the main task's waker.
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::process::{Ctx, Incoming, ProcessTable, Supervised};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Runs `steps` deliveries to one process under the hand-off; returns how many times
    /// the process handled one and whether the driver ran inline after its polls.
    fn drive_one(steps: u32, stuck: bool) -> Result<(u32, bool), crate::engine::EngineError> {
        let runtime = madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default());
        runtime.block_on(async move {
            let table: Rc<ProcessTable<u32, u32>> =
                ProcessTable::new(1, [(0, None, ChaCha8Rng::seed_from_u64(0))]);
            ProcessTable::install(&table);
            let handled = Rc::new(Cell::new(0u32));
            let counter = Rc::clone(&handled);
            let _node = madsim::runtime::Handle::current()
                .create_node()
                .name("p")
                .init(move || {
                    Supervised(
                        0,
                        Box::pin(async move {
                            let ctx: Ctx<u32, u32> = ProcessTable::boot(0).await;
                            loop {
                                ctx.recv().await;
                                if stuck {
                                    std::future::pending::<()>().await;
                                }
                            }
                        }),
                    )
                })
                .build();
            let driver_table = Rc::clone(&table);
            let result = run(async move {
                let mut inline = false;
                for step in 0..steps {
                    driver_table.deliver(0, u64::from(step), 0, Incoming::Timer { token: 0 });
                    driver_table.settle(0).await?;
                    counter.set(counter.get() + 1);
                    inline |= super::inline();
                }
                Ok::<bool, crate::engine::EngineError>(inline)
            })
            .await;
            ProcessTable::<u32, u32>::uninstall();
            result.map(|inline| (handled.get(), inline))
        })
    }

    #[test]
    fn the_driver_resumes_inline_after_the_process_it_woke() {
        let (handled, inline) = drive_one(50, false).expect("a waiting process settles");
        assert_eq!(handled, 50);
        assert!(inline, "the driver never ran inside a process's poll");
        assert!(
            DRIVER.with(|current| current.borrow().is_none()),
            "run uninstalls"
        );
    }

    #[test]
    fn a_process_that_never_waits_is_an_invariant_error_under_the_hand_off() {
        let err = drive_one(3, true).expect_err("a process that never waits cannot settle");
        assert!(err.to_string().contains("did not wait again"), "{err}");
    }
}
