//! `capacity-overflow`: keeps a group under its size limit and sends
//! newcomers to the emptiest sibling group of the alliance when it is full.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "entry-gate" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::gate::Guest as Gate;
use kith::plugin::groups;
use kith::plugin::types::{
    Context, Decision, JoinRequest, Message, Payment, PluginKind, Redirect, TimerFired,
};
use logic::{Config, Outcome, Sibling};

struct CapacityOverflow;

impl Guest for CapacityOverflow {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "capacity-overflow".into(),
            version: "0.1.0".into(),
            kind: PluginKind::EntryGate,
            description: "Refuses newcomers when the group is full, or redirects them to the \
                          sibling group with the fewest members."
                .into(),
            config_schema: logic::config_schema(),
            // Group reads need no capability: this gate only decides.
            capabilities: vec![],
        }
    }
}

impl Gate for CapacityOverflow {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    fn on_join_request(_ctx: Context, _request: JoinRequest) -> Result<Decision, String> {
        let cfg = host::config::<Config>()?.validate()?;
        let limit = cfg.limit(groups::current().capacity);
        let active = groups::counts().active;
        // Siblings are only worth a host call when they can matter.
        let siblings: Vec<Sibling> = if active >= limit && cfg.redirect {
            groups::siblings()
                .into_iter()
                .map(|g| Sibling {
                    id: g.id,
                    name: g.name,
                    member_count: g.member_count,
                    capacity: g.capacity,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(
            match logic::decide(&cfg.texts(), active, limit, cfg.redirect, &siblings) {
                Outcome::Admit(reason) => Decision::Admit(reason),
                Outcome::Reject(reason) => Decision::Reject(reason),
                Outcome::Redirect { group, reason } => {
                    Decision::Redirect(Redirect { group, reason })
                }
            },
        )
    }

    fn on_challenge_answer(
        _ctx: Context,
        _request: JoinRequest,
        _answer: String,
    ) -> Result<Decision, String> {
        Ok(Decision::Reject("this gate asks no questions".into()))
    }

    fn on_message(_ctx: Context, _message: Message) -> Result<(), String> {
        Ok(())
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(CapacityOverflow);
