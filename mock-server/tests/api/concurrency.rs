//! Many concurrent redemptions of one code: exactly one wins, and the losers revoke what
//! the winner got (RFC 6749 §4.1.2).

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_many_concurrent_redemptions_wins() {
    let m = std::sync::Arc::new(spawn_mock().await);
    let code = m.code(WEB).await;

    let attempts: Vec<_> = (0..32)
        .map(|_| {
            let m = m.clone();
            let code = code.clone();
            tokio::spawn(async move { m.redeem(WEB, &code).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = 0;
    for a in attempts {
        let r = a.await.expect("task runs");
        if r.status == 200 {
            winners.push(assert_tokens(&r));
        } else {
            assert_rejected(&r, 401, "code-single-use");
            losers += 1;
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption wins");
    assert_eq!(losers, 31);

    let (access, refresh) = &winners[0];
    let api = m.sessioninfo(access).await;
    assert_rejected(&api, 401, "code-single-use");
    let again = m.refresh(WEB, refresh).await;
    assert_rejected(&again, 401, "code-single-use");
}
