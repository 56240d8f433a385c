//! `submission-review`: applicants submit a sample of their work; the
//! request stays pending until a reviewer approves or declines it in chat.

mod logic;

wit_bindgen::generate!({ path: "../../../wit/0.1.0", world: "entry-gate" });
kith_plugin_util::host_glue!();

use exports::kith::plugin::gate::Guest as Gate;
use kith::plugin::members::MemberFilter;
use kith::plugin::messages::Outgoing;
use kith::plugin::types::{
    Capability, Context, Decision, ErrorCode, JoinRequest, MemberStatus, Message, Payment,
    PluginKind, Role, TimerFired,
};
use kith::plugin::{members, messages, storage};
use logic::{Command, Config, Submission};

struct SubmissionReview;

fn config() -> Result<Config, String> {
    host::config::<Config>()?.validate()
}

fn role_of(name: &str) -> Option<Role> {
    Some(match name {
        "owner" => Role::Owner,
        "admin" => Role::Admin,
        "core" => Role::Core,
        "partner" => Role::Partner,
        "vip" => Role::Vip,
        "member" => Role::Member,
        _ => return None,
    })
}

/// Active members holding a reviewer role, in the configured role order.
fn reviewers(cfg: &Config) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for role in cfg.reviewer_roles.iter().filter_map(|r| role_of(r)) {
        let found = members::find(&MemberFilter {
            role: Some(role),
            tag: None,
            status: Some(MemberStatus::Active),
            inactive_since: None,
            limit: 0,
        });
        ids.extend(found.into_iter().map(|m| m.id));
    }
    ids
}

fn direct(member: &str, text: &str) -> Result<(), String> {
    messages::direct(member, text).map_err(|e| host::err("messages.direct", e))
}

fn decide(cfg: &Config, reviewer: &str, command: Command) -> Result<(), String> {
    let member = match &command {
        Command::Approve { member } | Command::Decline { member, .. } => member.clone(),
    };
    let key = logic::submission_key(&member);
    // Only applications this gate holds: a reviewer's command must not
    // admit someone another gate is still waiting on (a payment, a quiz).
    if !host::exists(&key) {
        return direct(reviewer, &logic::nothing_to_review(&cfg.texts(), &member));
    }
    let name = host::member_name(reviewer);
    let result = match command {
        Command::Approve { .. } => {
            members::approve(&member, &logic::approve_reason(&cfg.texts(), &name))
        }
        Command::Decline { reason, .. } => members::decline(
            &member,
            &reason.unwrap_or_else(|| logic::default_decline_reason(&cfg.texts(), &name)),
        ),
    };
    match result {
        Ok(()) => {}
        // Decided elsewhere meanwhile (the operator's review endpoint, or
        // the applicant left): the stale submission just goes.
        Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::NotFound) => {
            direct(reviewer, &logic::nothing_to_review(&cfg.texts(), &member))?;
        }
        Err(e) => return Err(host::err("members.approve/decline", e)),
    }
    storage::delete(&key).map_err(|e| host::err(&format!("storage.delete `{key}`"), e))
}

impl Guest for SubmissionReview {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "submission-review".into(),
            version: "0.1.0".into(),
            kind: PluginKind::EntryGate,
            description: "Applicants submit a sample of their work; reviewers approve or \
                          decline it in the group with /approve and /decline."
                .into(),
            config_schema: logic::config_schema(),
            capabilities: vec![
                Capability::ReadMembers,
                Capability::ManageMembers,
                Capability::PostMessages,
                Capability::DirectMessages,
                Capability::Storage,
            ],
        }
    }
}

impl Gate for SubmissionReview {
    fn on_enabled(_ctx: Context) -> Result<(), String> {
        config().map(drop)
    }

    fn on_join_request(ctx: Context, request: JoinRequest) -> Result<Decision, String> {
        let cfg = config()?;
        let Some(text) =
            logic::submission_of(&request.payload).filter(|t| logic::long_enough(t, &cfg))
        else {
            return Ok(Decision::Reject(logic::reject_reason(&cfg)));
        };
        let member = &request.member;
        host::save(
            &logic::submission_key(member),
            &Submission {
                text: text.clone(),
                submitted_at: ctx.now,
            },
        )?;
        let name = kith_plugin_util::display_name(Some(&request.display_name), member);
        messages::post(&Outgoing {
            text: logic::review_request(&cfg.texts(), name, member, &text),
            mentions: reviewers(&cfg),
            reply_to: None,
        })
        .map_err(|e| host::err("messages.post", e))?;
        Ok(Decision::Pending(
            cfg.texts().render(logic::PENDING_REASON, &[]),
        ))
    }

    /// Nothing to answer: the request waits for a reviewer.
    fn on_challenge_answer(
        _ctx: Context,
        _request: JoinRequest,
        _answer: String,
    ) -> Result<Decision, String> {
        Ok(Decision::Pending(
            config()?.texts().render(logic::PENDING_REASON, &[]),
        ))
    }

    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        let Some(command) = logic::parse_command(&message.text) else {
            return Ok(());
        };
        let cfg = config()?;
        let sender = &message.sender;
        let allowed = members::get(sender).is_some_and(|m| cfg.may_review(host::role_name(m.role)));
        if !allowed {
            return direct(sender, &cfg.texts().render(logic::NOT_A_REVIEWER, &[]));
        }
        decide(&cfg, sender, command)
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }
}

export!(SubmissionReview);
