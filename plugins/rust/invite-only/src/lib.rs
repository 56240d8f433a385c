//! `invite-only`: admits applicants who bring an invite code issued by a
//! trusted member.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "entry-gate" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::gate::Guest as Gate;
use kith::plugin::types::{
    Capability, Context, Decision, JoinRequest, Message, Payment, PluginKind, TimerFired,
};
use kith::plugin::{members, messages};
use logic::{Config, JoinCheck};

struct InviteOnly;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

impl Guest for InviteOnly {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "invite-only".into(),
            version: "0.1.0".into(),
            kind: PluginKind::EntryGate,
            description: "Admits only applicants with an invite code; trusted members get \
                          codes by sending a command."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::DirectMessages,
                Capability::Storage,
            ],
        }
    }
}

impl Gate for InviteOnly {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    fn on_join_request(ctx: Context, request: JoinRequest) -> Result<Decision, String> {
        let cfg = config()?;
        let t = cfg.texts();
        let check = logic::check_join(request.invite_code.as_deref(), ctx.now, |code| {
            host::load(&logic::code_key(code))
        })?;
        let (code, record) = match check {
            JoinCheck::Reject(key) => return Ok(Decision::Reject(t.render(key, &[]))),
            JoinCheck::Admit { code, record } => (code, record),
        };
        // set-inviter is buffered and dropped if we fail, so it goes first:
        // if storing the use then fails, neither effect survives.
        members::set_inviter(&request.member, &record.inviter)
            .map_err(|e| host::err("members.set-inviter", e))?;
        host::save(&logic::code_key(&code), &record)?;
        Ok(Decision::Admit(logic::admit_reason(&t, &code, &record)))
    }

    fn on_challenge_answer(
        _ctx: Context,
        _request: JoinRequest,
        _answer: String,
    ) -> Result<Decision, String> {
        Ok(Decision::Reject("this gate asks no questions".into()))
    }

    fn on_message(ctx: Context, message: Message) -> Result<(), String> {
        let cfg = config()?;
        if !kith_plugin_util::is_command(&message.text, &cfg.command) {
            return Ok(());
        }
        let t = cfg.texts();
        let sender = &message.sender;
        let allowed = members::get(sender).is_some_and(|m| cfg.may_issue(host::role_name(m.role)));
        if !allowed {
            return messages::direct(sender, &logic::not_allowed_message(&t, &cfg.issuer_roles))
                .map_err(|e| host::err("messages.direct", e));
        }
        let code = logic::draw_code(ctx.seed, |c| host::exists(&logic::code_key(c)))?;
        let record = logic::new_code(&cfg, sender, ctx.now);
        // Stored before it is sent: a code the member never received is
        // harmless, one they received that does not work is not.
        host::save(&logic::code_key(&code), &record)?;
        messages::direct(
            sender,
            &logic::issued_message(&t, &host::clock(), &code, &record),
        )
        .map_err(|e| host::err("messages.direct", e))
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(InviteOnly);
