//! Staff accounts through the controller: password rules, login with rate limiting,
//! sessions with their CSRF token, API tokens, site scoping and the audit log.

use commune_controller::staff::{LoginError, Role, LOGIN_FAILURES_ALLOWED};
use commune_protocol::UtcMillis;
use commune_tests::{TestController, SITE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_sessions_tokens_and_their_audit() {
    let ctrl = TestController::start().await;
    let c = &ctrl.controller;
    let sites = vec![SITE.to_string()];

    let short = c
        .create_staff("marie", "Marie", Role::Mediator, &sites, "court")
        .await
        .unwrap_err();
    assert!(short.to_string().contains("12 characters"), "{short}");
    let siteless = c
        .create_staff("marie", "Marie", Role::Staff, &[], "un mot de passe long")
        .await
        .unwrap_err();
    assert!(siteless.to_string().contains("site"), "{siteless}");
    c.create_staff(
        "marie",
        "Marie",
        Role::Mediator,
        &sites,
        "un mot de passe long",
    )
    .await
    .unwrap();

    // A wrong password, then the right one: a session whose cookie finds Marie again.
    assert_eq!(
        c.login("marie", "mauvais", None).await.unwrap_err(),
        LoginError::Wrong
    );
    assert_eq!(
        c.login("personne", "un mot de passe long", None)
            .await
            .unwrap_err(),
        LoginError::Wrong,
        "an unknown login gets the same answer"
    );
    let (who, session) = c
        .login("marie", "un mot de passe long", None)
        .await
        .unwrap();
    assert_eq!(who.role, Role::Mediator);
    assert!(who.may_act_on(SITE) && !who.may_act_on("mdh-autre"));
    let (again, csrf) = c.session_identity(&session.token).await.unwrap();
    assert_eq!(again.login, "marie");
    assert_eq!(csrf, session.csrf);
    c.logout(&session.token).await;
    assert!(c.session_identity(&session.token).await.is_none());

    // Repeated failures from one address: refused even with the right password.
    let ip = Some("192.0.2.10".parse().unwrap());
    for _ in 0..LOGIN_FAILURES_ALLOWED {
        let _ = c.login("marie", "mauvais", ip).await;
    }
    let blocked = c
        .login("marie", "un mot de passe long", ip)
        .await
        .unwrap_err();
    assert!(
        matches!(blocked, LoginError::TooManyAttempts(m) if m >= 1),
        "{blocked:?}"
    );
    assert!(blocked.to_string().contains("trop d'essais"));

    // API tokens for IT's scripts.
    let token = c.create_api_token("marie", "inventaire").await.unwrap();
    let api = c.api_identity(&token).await.unwrap();
    assert_eq!(api.via, "api:inventaire");
    assert!(c.api_identity("cmn-api-nope").await.is_none());

    let log = c.store().audit_log(UtcMillis(0)).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "user.create",
        "login.failed",
        "login",
        "login.refused",
        "api_token.create",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        !log.iter()
            .any(|e| e.detail.contains("mauvais") || e.detail.contains("long")),
        "no password in the audit log"
    );
}
