//! referral-fission: attribution at join, a reward once at N joined invitees.

use super::*;

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

    say(&s, "shop", "m1", "ann", "/mylink", 1_790_000_000_000).await;
    let link = s
        .outbox("shop")
        .await
        .into_iter()
        .find(|a| a["action"] == "direct")
        .expect("link sent");
    assert!(
        link["payload"]["text"]
            .as_str()
            .unwrap()
            .contains("referrer=ann"),
        "{link}"
    );

    // An unknown referrer is not attributed; a self-referral neither.
    join(&s, "shop", json!({"member": "x1", "referrer": "nobody"})).await;
    assert_eq!(member(&s, "shop", "x1").await["inviter"], Value::Null);
    join(&s, "shop", json!({"member": "me", "referrer": "me"})).await;
    assert_eq!(member(&s, "shop", "me").await["inviter"], Value::Null);
    join(&s, "shop", json!({"member": "f1", "referrer": "ann"})).await;
    assert_eq!(member(&s, "shop", "f1").await["inviter"], "ann");
    assert_eq!(member(&s, "shop", "ann").await["points"], 0);
    join(&s, "shop", json!({"member": "f2", "referrer": "ann"})).await;
    let ann = member(&s, "shop", "ann").await;
    assert_eq!(ann["points"], 50);
    assert_eq!(ann["tags"], json!(["champion"]));

    // Leaving and rejoining does not count twice; a third friend adds nothing.
    s.ok("POST", "/v1/groups/shop/members/f2/leave", None).await;
    join(&s, "shop", json!({"member": "f2", "referrer": "ann"})).await;
    join(&s, "shop", json!({"member": "f3", "referrer": "ann"})).await;
    assert_eq!(member(&s, "shop", "ann").await["points"], 50);
    s.assert_ledger_balances("shop").await;
});
