//! Double-entry ledger accounts and assets.

use super::*;

text_enum!(
    /// A ledger asset.
    Asset {
        /// Points: earned in the group, issued by the `issuer` account.
        Points = "points",
        /// Money, in integer minor units (fen for CNY).
        Money = "money",
    }
);

/// Transfer ids of a payment's credit and of its refunds' two sources
/// (the member's wallet, the group's treasury): the ledger's record of a
/// payment is these transfers.
pub fn payment_transfer_ids(payment_id: &str) -> [String; 3] {
    [
        format!("{payment_id}:in"),
        format!("{payment_id}:refund-w"),
        format!("{payment_id}:refund-g"),
    ]
}

/// A ledger account of a group, parsed from its text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Account {
    /// `member:<id>`: a member's wallet.
    Member(MemberId),
    /// `group`: the group's treasury.
    Group,
    /// `escrow:<name>`: money held by a plugin (a red envelope, a group buy).
    Escrow(String),
    /// Where points come from.
    Issuer,
    /// Money from the outside world (payments); only the host moves it.
    External,
}

impl Account {
    /// Parses the text form (`member:<id>`, `group`, `escrow:<name>`,
    /// `issuer`, `external`), as plugins and the API spell accounts.
    ///
    /// # Errors
    ///
    /// A message for the caller if the text is no account, or a member id or
    /// escrow name is empty or longer than 200 characters.
    pub fn parse(text: &str) -> Result<Account, String> {
        let nonempty = |rest: &str, what: &str| {
            if rest.is_empty() || rest.len() > 200 {
                Err(format!(
                    "account {text:?}: {what} must be 1 to 200 characters"
                ))
            } else {
                Ok(rest.to_string())
            }
        };
        match text {
            "group" => Ok(Account::Group),
            "issuer" => Ok(Account::Issuer),
            "external" => Ok(Account::External),
            _ => {
                if let Some(rest) = text.strip_prefix("member:") {
                    nonempty(rest, "member id").map(Account::Member)
                } else if let Some(rest) = text.strip_prefix("escrow:") {
                    nonempty(rest, "escrow name").map(Account::Escrow)
                } else {
                    Err(format!(
                        "unknown account {text:?}; expected member:<id>, group, escrow:<name>, issuer or external"
                    ))
                }
            }
        }
    }

    /// Sources of value; every other account must stay at or above zero.
    pub fn may_go_negative(&self) -> bool {
        matches!(self, Account::Issuer | Account::External)
    }
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Account::Member(id) => write!(f, "member:{id}"),
            Account::Group => f.write_str("group"),
            Account::Escrow(name) => write!(f, "escrow:{name}"),
            Account::Issuer => f.write_str("issuer"),
            Account::External => f.write_str("external"),
        }
    }
}

/// One side of a transfer: a transfer writes two entries summing to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    /// The transfer this entry is one side of.
    pub transfer_id: String,
    /// The account, in text form (`member:<id>`, `group`, …).
    pub account: String,
    /// Points or money.
    pub asset: Asset,
    /// Signed amount: positive in, negative out.
    pub amount: i64,
    /// Free text given with the transfer.
    pub memo: String,
    /// When the transfer happened. Unix epoch milliseconds.
    pub at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_parse_and_print_back() {
        for text in [
            "member:alice",
            "group",
            "escrow:env-1",
            "issuer",
            "external",
        ] {
            assert_eq!(Account::parse(text).unwrap().to_string(), text);
        }
        assert!(Account::parse("member:").is_err());
        assert!(Account::parse("bank").unwrap_err().contains("expected"));
    }
}
