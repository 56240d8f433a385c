//! kith:plugin@0.2's imports (0.2.0, and 0.2.1's `members.referral-code`). Every function 0.1.0 already had is
//! forwarded to its 0.1.0 implementation, so each behaves the same under
//! both versions; only what 0.2.0 added is implemented here.
//!
//! The records and enums an interface declares itself (a member filter, an
//! outgoing message, a ledger asset…) are distinct Rust types per version,
//! though identical in WIT: `same_record!` and `same_enum!` convert them.

use super::*;
use crate::runtime::bindings::kith::plugin as v1;
use crate::runtime::bindings::v0_2::kith::plugin as v2;
use crate::runtime::bindings::wit;

/// Forwards each listed 0.2.0 function to the 0.1.0 trait method of the
/// same name, converting arguments and results with `Into`.
macro_rules! forward {
    ($iface:ident: $( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        $(
            async fn $name(&mut self, $($arg: $ty),*) -> HostResult<$ret> {
                let r = v1::$iface::Host::$name(self, $($arg.into()),*).await?;
                Ok(Convert::convert(r))
            }
        )*
    };
}

/// A record declared identically in both versions: a field-by-field copy.
macro_rules! same_record {
    ($($iface:ident::$ty:ident { $($field:ident),* })*) => {$(
        impl From<v2::$iface::$ty> for v1::$iface::$ty {
            fn from(x: v2::$iface::$ty) -> Self {
                Self { $($field: x.$field.into()),* }
            }
        }
        impl From<v1::$iface::$ty> for v2::$iface::$ty {
            fn from(x: v1::$iface::$ty) -> Self {
                Self { $($field: x.$field.into()),* }
            }
        }
    )*};
}

/// An enum declared identically in both versions.
macro_rules! same_enum {
    ($($iface:ident::$ty:ident { $($case:ident),* })*) => {$(
        impl From<v2::$iface::$ty> for v1::$iface::$ty {
            fn from(x: v2::$iface::$ty) -> Self {
                match x { $(v2::$iface::$ty::$case => Self::$case),* }
            }
        }
        impl From<v1::$iface::$ty> for v2::$iface::$ty {
            fn from(x: v1::$iface::$ty) -> Self {
                match x { $(v1::$iface::$ty::$case => Self::$case),* }
            }
        }
    )*};
}

same_record! {
    members::MemberFilter { role, tag, status, inactive_since, limit }
    messages::Outgoing { text, mentions, reply_to }
    groups::GroupActivity { group, messages, active_members }
    ledger::Entry { transfer_id, account, asset, amount, memo, at }
}
same_enum! {
    ledger::Asset { Points, Money }
    log::Level { Trace, Debug, Info, Warn, Error }
}

/// A 0.1.0 result as 0.2.0 returns it: the same value, or its elements
/// converted (`Into` cannot reach inside a `Vec` by itself).
trait Convert<T> {
    fn convert(self) -> T;
}

impl<T> Convert<T> for T {
    fn convert(self) -> T {
        self
    }
}

impl Convert<Vec<v2::groups::GroupActivity>> for Vec<v1::groups::GroupActivity> {
    fn convert(self) -> Vec<v2::groups::GroupActivity> {
        self.into_iter().map(Into::into).collect()
    }
}

impl Convert<Vec<v2::ledger::Entry>> for Vec<v1::ledger::Entry> {
    fn convert(self) -> Vec<v2::ledger::Entry> {
        self.into_iter().map(Into::into).collect()
    }
}

impl v2::members::Host for HostState {
    forward! { members:
        fn get(id: String) -> Option<wit::Member>;
        fn find(filter: v2::members::MemberFilter) -> Vec<wit::Member>;
        fn set_role(id: String, role: wit::Role) -> Result<(), WitError>;
        fn add_tag(id: String, tag: String) -> Result<(), WitError>;
        fn remove_tag(id: String, tag: String) -> Result<(), WitError>;
        fn approve(id: String, reason: String) -> Result<(), WitError>;
        fn decline(id: String, reason: String) -> Result<(), WitError>;
        fn remove(id: String, reason: String) -> Result<(), WitError>;
        fn restrict(id: String, until: i64, reason: String) -> Result<(), WitError>;
        fn set_paid(id: String, tier: Option<String>, until: Option<i64>) -> Result<(), WitError>;
        fn set_inviter(id: String, inviter: String) -> Result<(), WitError>;
        fn award_points(id: String, points: i64, reason: String) -> Result<(), WitError>;
    }

    async fn active_since(
        &mut self,
        since: i64,
        after: Option<String>,
        limit: u32,
    ) -> HostResult<Vec<wit::Member>> {
        self.active_members_since(since, after, limit).await
    }

    async fn referral_code(&mut self, id: String) -> HostResult<Result<String, WitError>> {
        HostState::referral_code(self, id).await
    }
}

impl v2::messages::Host for HostState {
    forward! { messages:
        fn post(message: v2::messages::Outgoing) -> Result<String, WitError>;
        fn direct(member: String, text: String) -> Result<(), WitError>;
        fn delete(id: String, reason: String) -> Result<(), WitError>;
        fn recent(limit: u32, since: Option<i64>) -> Vec<wit::Message>;
    }

    async fn recent_before(
        &mut self,
        limit: u32,
        since: Option<i64>,
        before: Option<String>,
    ) -> HostResult<Vec<wit::Message>> {
        self.recent_messages(limit, since, before).await
    }
}

impl v2::storage::Host for HostState {
    forward! { storage:
        fn get(key: String) -> Option<Vec<u8>>;
        fn set(key: String, value: Vec<u8>) -> Result<(), WitError>;
        fn delete(key: String) -> Result<(), WitError>;
        fn list_keys(prefix: String, limit: u32) -> Vec<String>;
    }

    async fn list_keys_after(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> HostResult<Vec<String>> {
        self.storage_keys(prefix, after, limit).await
    }
}

impl v2::groups::Host for HostState {
    forward! { groups:
        fn current() -> wit::Group;
        fn counts() -> wit::GroupCounts;
        fn siblings() -> Vec<wit::Group>;
        fn activity(since: i64) -> Vec<v2::groups::GroupActivity>;
    }
}

impl v2::ledger::Host for HostState {
    forward! { ledger:
        fn balance(account: String, asset: v2::ledger::Asset) -> i64;
        fn transfer(from: String, to: String, asset: v2::ledger::Asset, amount: i64, memo: String)
            -> Result<String, WitError>;
        fn history(account: String, asset: v2::ledger::Asset, limit: u32) -> Vec<v2::ledger::Entry>;
    }

    async fn request_refund(
        &mut self,
        payment_id: String,
        amount: i64,
        reason: String,
    ) -> HostResult<Result<(), WitError>> {
        HostState::request_refund(self, payment_id, amount, reason).await
    }
}

impl v2::timers::Host for HostState {
    forward! { timers:
        fn set_once(name: String, at: i64, payload: String) -> Result<(), WitError>;
        fn set_recurring(name: String, first: i64, period_ms: u64, payload: String)
            -> Result<(), WitError>;
        fn cancel(name: String) -> Result<(), WitError>;
    }
}

impl v2::log::Host for HostState {
    forward! { log:
        fn log(level: v2::log::Level, message: String) -> ();
    }
}

impl v2::config::Host for HostState {
    forward! { config:
        fn get() -> String;
    }
}
