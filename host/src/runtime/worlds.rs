//! The one list of kith's worlds and their handlers (`worlds!` below).
//! Everything that differs per world comes from it: the ready-to-instantiate
//! type, the export that tells a component's world, which events a world
//! handles, and the calls into a plugin.
//!
//! kith:plugin@0.1.0 has a world per kind; 0.2.0 has one `plugin` world,
//! whose single `handle` export takes every event of the kind its metadata
//! declares (`Pre::Plugin`, `event_v0_2`, `reply_v0_2`).

use wasmtime::component::InstancePre;
use wasmtime::Store as WasmStore;

use super::bindings::v0_2::exports::kith::plugin::handler as v2;
use super::bindings::v0_2::PluginPre;
use super::bindings::{flow::ConversionFlowPre, game::ActivityGamePre, wit, EntryGatePre};
use super::convert::metadata_from_wit;
use super::host::HostState;
use super::invoke::HandlerOutput;
use crate::domain::{Decision, PluginEvent, PluginKind};

/// A call's result: a trap or a host error (`Err`), or the handler's own.
pub(super) type Outcome = wasmtime::Result<Result<HandlerOutput, String>>;

/// For each world: its `PluginKind` (also the `Pre` variant), the generated
/// `*Pre` type, the exported interface that names it, the getter of that
/// export, then each handler as `PluginEvent` pattern => result wrapper
/// (`call_*` function, arguments after the context).
macro_rules! worlds {
    ($(
        $kind:ident: $pre:ident, $iface:literal, $export:ident {
            $( $event:ident $(($($bind:ident),+))? => $wrap:ident($call:ident $(, $arg:expr)*), )+
        }
    )+) => {
        /// A component ready to instantiate, for the world it targets.
        #[derive(Clone)]
        pub enum Pre {
            $( $kind($pre<HostState>), )+
            /// kith:plugin@0.2.x's `plugin` world, of any kind.
            Plugin(PluginPre<HostState>),
        }

        impl Pre {
            /// Checks the component's exports against its world.
            pub(super) fn new(
                world: World,
                instance_pre: InstancePre<HostState>,
            ) -> wasmtime::Result<Pre> {
                Ok(match world {
                    $( World::V0_1(PluginKind::$kind) => Pre::$kind($pre::new(instance_pre)?), )+
                    World::V0_2 => Pre::Plugin(PluginPre::new(instance_pre)?),
                })
            }
        }

        /// Each 0.1.0 world with the exported interface that names it.
        pub(super) const WORLD_EXPORTS: &[(&str, PluginKind)] = &[
            $( ($iface, PluginKind::$kind), )+
        ];

        /// Each world's handlers as listed here, by their `call_*` names:
        /// checked against `PluginKind::handlers` (the list `kith plugin new`
        /// writes from) by a test.
        #[cfg(test)]
        const CALLS: &[(PluginKind, &[&str])] = &[
            $( (PluginKind::$kind, &[ $( stringify!($call), )+ ]), )+
        ];

        /// Whether a plugin of `kind` has a handler for `event`.
        pub fn handles(kind: PluginKind, event: &PluginEvent) -> bool {
            match kind {
                $( PluginKind::$kind => matches!(event, $( PluginEvent::$event { .. } )|+), )+
            }
        }

        /// Calls the plugin's `metadata` export.
        pub(super) async fn metadata(pre: &Pre, store: &mut WasmStore<HostState>) -> Outcome {
            let m = match pre {
                $( Pre::$kind(p) => {
                    p.instantiate_async(&mut *store)
                        .await?
                        .call_metadata(&mut *store)
                        .await?
                } )+
                Pre::Plugin(p) => {
                    p.instantiate_async(&mut *store)
                        .await?
                        .call_metadata(&mut *store)
                        .await?
                }
            };
            Ok(metadata_from_wit(m).map(HandlerOutput::Metadata))
        }

        /// Calls the handler for `event`; an event the world has no handler
        /// for is a host error (`handles` is asked first).
        pub(super) async fn dispatch(
            pre: &Pre,
            store: &mut WasmStore<HostState>,
            event: &PluginEvent,
        ) -> Outcome {
            let ctx = context(store);
            match pre {
                $( Pre::$kind(p) => {
                    let instance = p.instantiate_async(&mut *store).await?;
                    let h = instance.$export();
                    Ok(match event {
                        $( PluginEvent::$event $(($($bind),+))? => $wrap(
                            h.$call(&mut *store, &ctx $(, $arg)*).await?
                        ), )+
                        _ => return Err(unhandled(event)),
                    })
                } )+
                Pre::Plugin(p) => {
                    let instance = p.instantiate_async(&mut *store).await?;
                    let reply = instance
                        .kith_plugin_handler()
                        .call_handle(&mut *store, &ctx, &event_v0_2(event))
                        .await?;
                    Ok(reply.map(|r| reply_v0_2(event, r)))
                }
            }
        }
    };
}

worlds! {
    EntryGate: EntryGatePre, "gate", kith_plugin_gate {
        Enabled => done(call_on_enabled),
        JoinRequest(r) => decided(call_on_join_request, &r.clone().into()),
        ChallengeAnswer(r, a) => decided(call_on_challenge_answer, &r.clone().into(), a),
        Message(m) => done(call_on_message, &m.clone().into()),
        Payment(p) => done(call_on_payment, &p.clone().into()),
        Timer(t) => done(call_on_timer, &t.clone().into()),
    }
    ActivityGame: ActivityGamePre, "game", kith_plugin_game {
        Enabled => done(call_on_enabled),
        MemberJoined(m) => done(call_on_member_joined, &m.clone().into()),
        MemberLeft(m) => done(call_on_member_left, &m.clone().into()),
        Message(m) => done(call_on_message, &m.clone().into()),
        Reaction(r) => done(call_on_reaction, &r.clone().into()),
        Timer(t) => done(call_on_timer, &t.clone().into()),
    }
    ConversionFlow: ConversionFlowPre, "flow", kith_plugin_flow {
        Enabled => done(call_on_enabled),
        MemberJoined(m) => done(call_on_member_joined, &m.clone().into()),
        MemberLeft(m) => done(call_on_member_left, &m.clone().into()),
        Message(m) => done(call_on_message, &m.clone().into()),
        Reaction(r) => done(call_on_reaction, &r.clone().into()),
        Payment(p) => done(call_on_payment, &p.clone().into()),
        Timer(t) => done(call_on_timer, &t.clone().into()),
    }
}

/// What a component implements, from its exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// One of kith:plugin@0.1.0's worlds, which names the plugin's kind.
    V0_1(PluginKind),
    /// kith:plugin@0.2.x's `plugin` world; the metadata names the kind.
    V0_2,
}

impl World {
    /// The kind the world itself fixes (0.1.0), if any.
    pub fn kind(self) -> Option<PluginKind> {
        match self {
            World::V0_1(kind) => Some(kind),
            World::V0_2 => None,
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            World::V0_1(kind) => write!(f, "{kind} (kith:plugin@0.1.0)"),
            World::V0_2 => write!(f, "plugin (kith:plugin@0.2)"),
        }
    }
}

/// An event as 0.2.0's `handle` receives it. Only events some kind
/// handles reach here (`handles` is asked first).
fn event_v0_2(event: &PluginEvent) -> v2::Event {
    match event.clone() {
        PluginEvent::Enabled => v2::Event::Enabled,
        PluginEvent::JoinRequest(r) => v2::Event::JoinRequest(r.into()),
        PluginEvent::ChallengeAnswer(r, answer) => {
            v2::Event::ChallengeAnswer(v2::ChallengeAnswer {
                request: r.into(),
                answer,
            })
        }
        PluginEvent::MemberJoined(m) => v2::Event::MemberJoined(m.into()),
        PluginEvent::MemberLeft(m) => v2::Event::MemberLeft(m.into()),
        PluginEvent::Message(m) => v2::Event::Message(m.into()),
        PluginEvent::Reaction(r) => v2::Event::Reaction(r.into()),
        PluginEvent::Payment(p) => v2::Event::Payment(p.into()),
        PluginEvent::Timer(t) => v2::Event::Timer(t.into()),
    }
}

/// A 0.2.0 reply as a handler's output: `done` to a gate's question is
/// no objection, as the contract says.
fn reply_v0_2(event: &PluginEvent, reply: v2::Reply) -> HandlerOutput {
    match reply {
        v2::Reply::Decision(d) => HandlerOutput::Decision(d.into()),
        v2::Reply::Done => match event {
            PluginEvent::JoinRequest(..) | PluginEvent::ChallengeAnswer(..) => {
                HandlerOutput::Decision(Decision::Admit {
                    reason: String::new(),
                })
            }
            _ => HandlerOutput::Done,
        },
    }
}

/// The context every handler receives, from the invocation's.
fn context(store: &WasmStore<HostState>) -> wit::Context {
    let c = &store.data().ctx;
    wit::Context {
        group: c.group.id.clone(),
        plugin: c.plugin.clone(),
        event_id: c.event_id.clone(),
        now: c.now,
        seed: c.seed,
    }
}

fn unhandled(event: &PluginEvent) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "this plugin's world has no {} handler",
        event.handler()
    ))
}

fn done(r: Result<(), String>) -> Result<HandlerOutput, String> {
    r.map(|()| HandlerOutput::Done)
}

fn decided(r: Result<wit::Decision, String>) -> Result<HandlerOutput, String> {
    r.map(|d| HandlerOutput::Decision(d.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_handler_of_every_world() {
        for (kind, calls) in CALLS {
            let names: Vec<String> = calls
                .iter()
                .map(|c| c.trim_start_matches("call_").replace('_', "-"))
                .collect();
            let mut expected: Vec<&str> = kind.handlers().to_vec();
            let mut got: Vec<&str> = names.iter().map(String::as_str).collect();
            expected.sort();
            got.sort();
            assert_eq!(got, expected, "{kind}");
        }
    }
}
