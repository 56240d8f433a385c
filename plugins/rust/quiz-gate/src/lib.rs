//! `quiz-gate`: asks each applicant a question about the group's topic and
//! admits them only on a right answer given before the deadline.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "entry-gate" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::gate::Guest as Gate;
use kith::plugin::types::{
    Capability, Context, Decision, ErrorCode, JoinRequest, Message, Payment, PluginKind, TimerFired,
};
use kith::plugin::{groups, members, messages, storage, timers};
use logic::{Config, Pending, Verdict};

struct QuizGate;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

/// Forgets a question: its state and its expiry timer go together.
fn forget(member: &str) -> Result<(), String> {
    let key = logic::pending_key(member);
    storage::delete(&key).map_err(|e| host::err(&format!("storage.delete `{key}`"), e))?;
    timers::cancel(&logic::timer_name(member)).map_err(|e| host::err("timers.cancel", e))
}

impl Guest for QuizGate {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "quiz-gate".into(),
            version: "0.1.0".into(),
            kind: PluginKind::EntryGate,
            description: "Sends each applicant a question about the group's topic; a right \
                          answer before the deadline admits, a wrong or late one rejects, \
                          silence declines."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ManageMembers,
                Capability::DirectMessages,
                Capability::Timers,
                Capability::Storage,
            ],
        }
    }
}

impl Gate for QuizGate {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        config().map(drop)
    }

    /// Any `answer` sent with the request is ignored: it was given before
    /// the question existed, so it proves nothing.
    fn on_join_request(ctx: Context, request: JoinRequest) -> Result<Decision, String> {
        let cfg = config()?;
        let member = &request.member;
        let pending = logic::ask(&cfg, ctx.seed, ctx.now);
        let question = &cfg.questions[pending.question].question;
        host::save(&logic::pending_key(member), &pending)?;
        timers::set_once(&logic::timer_name(member), pending.deadline, member)
            .map_err(|e| host::err("timers.set-once", e))?;
        let text = logic::question_message(
            &cfg.texts(),
            &groups::current().name,
            question,
            cfg.timeout_seconds,
        );
        messages::direct(member, &text).map_err(|e| host::err("messages.direct", e))?;
        Ok(Decision::Pending(logic::pending_reason(
            &cfg.texts(),
            cfg.timeout_seconds,
        )))
    }

    fn on_challenge_answer(
        ctx: Context,
        request: JoinRequest,
        answer: String,
    ) -> Result<Decision, String> {
        let cfg = config()?;
        let member = &request.member;
        let pending: Option<Pending> = host::load(&logic::pending_key(member))?;
        let verdict = logic::judge(&cfg, pending.as_ref(), &answer, ctx.now);
        // One question, one answer: whatever the verdict, it is used up.
        if pending.is_some() {
            forget(member)?;
        }
        Ok(match verdict {
            Verdict::Admit(key) => Decision::Admit(cfg.texts().render(key, &[])),
            Verdict::Reject(key) => Decision::Reject(cfg.texts().render(key, &[])),
        })
    }

    fn on_message(_ctx: Context, _message: Message) -> Result<(), String> {
        Ok(())
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, timer: TimerFired) -> Result<(), String> {
        let Some(member) = timer.name.strip_prefix(logic::TIMER_PREFIX) else {
            return Ok(());
        };
        let key = logic::pending_key(member);
        let Some(pending) = host::load::<Pending>(&key)? else {
            return Ok(());
        };
        let cfg = config()?;
        match members::decline(member, &logic::no_answer_reason(&cfg.texts(), &pending)) {
            // Decided meanwhile (a reviewer, or the applicant left): only
            // the leftover question needs forgetting.
            Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::NotFound) => {}
            r => r.map_err(|e| host::err("members.decline", e))?,
        }
        storage::delete(&key).map_err(|e| host::err(&format!("storage.delete `{key}`"), e))
    }
}

export!(QuizGate);
