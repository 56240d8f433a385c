//! referral-fission: attribution at join through host-issued referral
//! codes, a reward once at N joined invitees.

use super::*;

/// A member's referral code, as an adapter asks for it.
async fn code_of(s: &TestServer, group: &str, member: &str) -> String {
    let path = format!("/v1/groups/{group}/members/{member}/referral-code");
    let issued = s.ok("POST", &path, None).await;
    assert_eq!(issued["member"], member);
    issued["code"].as_str().expect("a code").to_string()
}

on_both_databases!(reward_at_threshold, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(
        &s,
        "shop",
        &[(
            "referral-fission",
            json!({"reward_threshold": 2, "reward_points": 50, "reward_tag": "champion"}),
        )],
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/shop/members",
        Some(json!({"member": "ann"})),
    )
    .await;

    // The plugin's link carries the code the host issued; asking the API
    // afterwards gives the same one.
    say(&s, "shop", "m1", "ann", "/mylink", 1_790_000_000_000).await;
    let link = s
        .outbox("shop")
        .await
        .into_iter()
        .find(|a| a["action"] == "direct")
        .expect("link sent");
    let code = code_of(&s, "shop", "ann").await;
    assert_eq!(code, code_of(&s, "shop", "ann").await);
    assert!(
        link["payload"]["text"].as_str().unwrap().contains(&code),
        "{link} should carry {code}"
    );

    join(&s, "shop", json!({"member": "f1", "referral_code": code})).await;
    assert_eq!(member(&s, "shop", "f1").await["inviter"], "ann");
    assert_eq!(member(&s, "shop", "ann").await["points"], 0);
    join(&s, "shop", json!({"member": "f2", "referral_code": code})).await;
    let ann = member(&s, "shop", "ann").await;
    assert_eq!(ann["points"], 50);
    assert_eq!(ann["tags"], json!(["champion"]));

    // Leaving and rejoining does not count twice; a third friend adds nothing.
    s.ok("POST", "/v1/groups/shop/members/f2/leave", None).await;
    join(&s, "shop", json!({"member": "f2", "referral_code": code})).await;
    join(&s, "shop", json!({"member": "f3", "referral_code": code})).await;
    assert_eq!(member(&s, "shop", "ann").await["points"], 50);
    s.assert_ledger_balances("shop").await;
});

on_both_databases!(forged_referrals_are_not_attributed, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(
        &s,
        "shop",
        &[("referral-fission", json!({"reward_threshold": 1}))],
    )
    .await;
    group_with(&s, "other", &[]).await;
    for (g, m) in [("shop", "ann"), ("other", "bob")] {
        let path = format!("/v1/groups/{g}/members");
        s.ok("POST", &path, Some(json!({"member": m}))).await;
    }

    // Naming a member id is what a forger would do: refused, and it says how.
    let (status, body) = s
        .call(
            "POST",
            "/v1/groups/shop/join-requests",
            Some(json!({"member": "x0", "referrer": "ann"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("referral_code"));
    assert_eq!(
        s.call("GET", "/v1/groups/shop/members/x0", None).await.0,
        404
    );

    // A member id, a code of the right shape never issued, another group's
    // code: the applicant joins, attributed to nobody.
    let elsewhere = code_of(&s, "other", "bob").await;
    for (m, code) in [
        ("x1", "ann"),
        ("x2", "0000000000"),
        ("x3", elsewhere.as_str()),
    ] {
        let outcome = join(&s, "shop", json!({"member": m, "referral_code": code})).await;
        assert_eq!(outcome["status"], "admitted", "{outcome}");
        assert_eq!(member(&s, "shop", m).await["inviter"], Value::Null, "{m}");
    }
    assert_eq!(member(&s, "shop", "ann").await["points"], 0);

    // A self-referral: a member who left rejoins with their own code.
    let own = code_of(&s, "shop", "x1").await;
    s.ok("POST", "/v1/groups/shop/members/x1/leave", None).await;
    join(&s, "shop", json!({"member": "x1", "referral_code": own})).await;
    assert_eq!(member(&s, "shop", "x1").await["inviter"], Value::Null);

    // Only active members have a code; unknown ones are not found.
    let (status, _) = s
        .call("POST", "/v1/groups/shop/members/nobody/referral-code", None)
        .await;
    assert_eq!(status, 404);
    s.ok("POST", "/v1/groups/shop/members/x2/leave", None).await;
    let (status, body) = s
        .call("POST", "/v1/groups/shop/members/x2/referral-code", None)
        .await;
    assert_eq!(status, 409, "{body}");
});
