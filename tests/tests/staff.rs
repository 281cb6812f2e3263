//! Staff accounts through the controller: password rules, login with rate limiting,
//! sessions with their CSRF token, API tokens, site scoping and the audit log.

use commune_controller::staff::{LoginError, Role};
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
    for _ in 0..c.config().login.failures_per_pair {
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

    // Refusals of anonymous attempts are written once a minute, aggregated; now here.
    c.flush_login_audit().await;
    let log = c.store().audit_log(UtcMillis(0)).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for expected in ["user.create", "login.failed", "login", "api_token.create"] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    // Marie's own failures on her line; the unknown login and the refusals aggregated.
    assert!(log
        .iter()
        .any(|e| e.action == "login.failed" && e.actor == "marie"));
    let aggregated: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "login.failed" && e.actor == "web")
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        aggregated
            .iter()
            .any(|d| d.starts_with("1 refused") && d.contains("«personne»")),
        "{aggregated:?}"
    );
    assert!(
        aggregated.iter().any(|d| d.contains("reason too_many")),
        "{aggregated:?}"
    );
    assert!(
        !log.iter()
            .any(|e| e.detail.contains("mauvais") || e.detail.contains("long")),
        "no password in the audit log"
    );
}

/// The role split through the staff API, without HTTP: a mediator runs their permanences
/// (slots they opened, sessions on seats in them, counters) and nothing else; staff act on
/// every slot and session of their site; refusals are audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mediator_acts_on_their_permanences_only() {
    use commune_controller::staff::{Refusal, StaffError, StaffIdentity};
    use commune_protocol::messages::{AgentEvent, EventEnvelope, SessionStarted, SlotKind};

    let ctrl = TestController::start().await;
    let c = &ctrl.controller;
    let (seat, _dir) = commune_tests::enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .unwrap();
    let seat = seat.agent_id;
    let (other_seat, _dir2) = commune_tests::enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .unwrap();
    let other_seat = other_seat.agent_id;
    c.store()
        .add_site("mdh-autre", "MDH Autre", commune_controller::now())
        .await
        .unwrap();
    let sites = [SITE.to_string()];
    for (login, role) in [
        ("marie", Role::Mediator),
        ("karim", Role::Mediator),
        ("accueil", Role::Staff),
    ] {
        c.create_staff(login, login, role, &sites, "un mot de passe long")
            .await
            .unwrap();
    }
    let mut who = Vec::new();
    for login in ["marie", "karim", "accueil"] {
        let (_, session) = c.login(login, "un mot de passe long", None).await.unwrap();
        who.push(c.session_identity(&session.token).await.unwrap().0);
    }
    let (marie, karim, accueil) = (who[0].clone(), who[1].clone(), who[2].clone());
    fn forbidden<T>(r: Result<T, StaffError>) -> Refusal {
        match r {
            Err(StaffError::Forbidden(why)) => why,
            Err(e) => panic!("refused for another reason: {e}"),
            Ok(_) => panic!("allowed"),
        }
    }
    let later = commune_controller::now().plus_secs(3600);
    let m = c.staff_api(&marie);

    // Staff-only actions: refused for her role; another site: refused for the site.
    assert_eq!(
        forbidden(m.create_tickets(SITE, 1, 45, later).await),
        Refusal::NotYourRole
    );
    let (from, to) = (UtcMillis(0), commune_controller::now());
    assert_eq!(
        forbidden(m.report(SITE, from, to).await),
        Refusal::NotYourRole
    );
    assert_eq!(
        forbidden(m.export_report(SITE, from, to, "postes.csv").await),
        Refusal::NotYourRole
    );
    assert_eq!(forbidden(m.lieux_csv().await), Refusal::NotYourRole);
    assert_eq!(
        forbidden(m.inclusion_services().await),
        Refusal::NotYourRole
    );
    assert_eq!(forbidden(m.devices().await), Refusal::NotYourRole);
    assert_eq!(forbidden(m.accounts().await), Refusal::NotYourRole);
    assert_eq!(
        forbidden(m.create_enrollment_token(SITE, 3600).await),
        Refusal::NotYourRole
    );
    assert_eq!(
        forbidden(
            m.open_slot("mdh-autre", std::slice::from_ref(&seat), later, None, None)
                .await
        ),
        Refusal::NotYourSite
    );
    // A free-access seat is not hers to open a session on.
    assert_eq!(
        forbidden(m.start_session(SITE, &seat).await),
        Refusal::NotSupervised
    );

    // Her slot: she opens, extends and closes it; another mediator may not touch it, the
    // MDH's staff may.
    let slot = m
        .open_slot(SITE, std::slice::from_ref(&seat), later, None, None)
        .await
        .unwrap();
    let view = c.staff_api(&karim).site(SITE).await.unwrap();
    assert!(view.changeable_slots.is_empty(), "not karim's slot");
    assert_eq!(
        forbidden(c.staff_api(&karim).close_slot(SITE, &slot).await),
        Refusal::NotYourSlot
    );
    assert_eq!(
        forbidden(c.staff_api(&karim).start_session(SITE, &seat).await),
        Refusal::NotSupervised,
        "another mediator's slot is not karim's permanence"
    );
    c.staff_api(&accueil)
        .extend_slot(SITE, &slot, later.plus_secs(600))
        .await
        .unwrap();
    assert_eq!(
        m.site(SITE).await.unwrap().changeable_slots,
        vec![slot.clone()]
    );
    m.record_counters(SITE, &slot, "2026-11-24", 3, &[("logement".into(), 2)])
        .await
        .unwrap();
    // Counters go to her own slot, not another mediator's nor an invented permanence.
    for other in [slot.as_str(), "une-permanence-inventee"] {
        let who = if other == slot { &karim } else { &accueil };
        let refused = c
            .staff_api(who)
            .record_counters(SITE, other, "2026-11-24", 50, &[])
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("not a permanence"),
            "{refused}"
        );
    }
    // Sessions on the seat of her slot: hers to start and end...
    m.start_session(SITE, &seat).await.unwrap();
    m.end_session(SITE, &seat, "Fin de la permanence")
        .await
        .unwrap();
    // ...but not on a seat outside it, nor a free-access visitor's session in it.
    assert_eq!(
        forbidden(m.end_session(SITE, &other_seat, "non").await),
        Refusal::NotSupervised
    );
    c.ingest(
        &seat,
        vec![EventEnvelope {
            seq: 1,
            at: commune_controller::now(),
            event: AgentEvent::SessionStarted(SessionStarted {
                session_id: "s-libre".into(),
                slot_kind: SlotKind::Free,
                permanence_id: None,
                with_ticket: true,
            }),
        }],
    )
    .await
    .unwrap();
    commune_tests::eventually(10, "the free session is stored", || async {
        c.store()
            .sessions(UtcMillis(0), UtcMillis(i64::MAX))
            .await
            .unwrap()
            .iter()
            .any(|s| s.session_id == "s-libre")
    })
    .await;
    assert_eq!(
        forbidden(m.end_session(SITE, &seat, "non").await),
        Refusal::FreeAccessSession
    );
    c.staff_api(&accueil)
        .end_session(SITE, &seat, "Fin de l'accès libre")
        .await
        .unwrap();
    m.close_slot(SITE, &slot).await.unwrap();
    // The command line acts as an admin.
    c.staff_api(&StaffIdentity::cli())
        .create_tickets(SITE, 1, 45, later)
        .await
        .unwrap();

    let log = c.store().audit_log(UtcMillis(0)).await.unwrap();
    let by = |actor: &str, action: &str| log.iter().any(|e| e.actor == actor && e.action == action);
    for action in [
        "tickets.create.refused",
        "report.view.refused",
        "report.export.refused",
        "export.lieux.refused",
        "devices.view.refused",
        "slot.open.refused",
        "slot.open",
        "counters.record",
        "session.start",
        "session.end",
        "session.end.refused",
        "slot.close",
    ] {
        assert!(by("marie", action), "marie: {action} missing");
    }
    assert!(by("karim", "slot.close.refused"));
    assert!(by("accueil", "slot.extend"));
    assert!(by("cli", "tickets.create"));
}

/// Accounts, passwords, API tokens and sessions through the staff API: each change holds at
/// the next request, and goes to the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_accounts_new_passwords_and_revoked_or_expired_tokens_are_refused_at_once() {
    use commune_controller::staff::{Refusal, StaffError, StaffIdentity};
    use std::time::Duration;

    let ctrl = TestController::start().await;
    let c = &ctrl.controller;
    let password = "un mot de passe long";
    c.create_staff("admin", "Admin", Role::Admin, &[], password)
        .await
        .unwrap();
    c.create_staff("accueil", "Accueil", Role::Staff, &[SITE.into()], password)
        .await
        .unwrap();
    let (_, admin_session) = c.login("admin", password, None).await.unwrap();
    let admin = c.session_identity(&admin_session.token).await.unwrap().0;
    let api = c.staff_api(&admin);
    let cli = StaffIdentity::cli();

    // API tokens expire (90 days by default), are revoked by name, and only an admin makes
    // them.
    let token = api
        .create_api_token("accueil", "inventaire", Duration::from_secs(86_400))
        .await
        .unwrap();
    let holder = c.api_identity(&token).await.unwrap();
    assert_eq!(holder.login, "accueil");
    assert!(matches!(
        c.staff_api(&holder)
            .create_api_token("accueil", "autre", Duration::from_secs(60))
            .await,
        Err(StaffError::Forbidden(Refusal::NotYourRole))
    ));
    let same_name = api
        .create_api_token("accueil", "inventaire", Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(same_name.to_string().contains("already"), "{same_name}");
    let tokens = api.api_tokens("accueil").await.unwrap();
    let expiry = tokens[0].expires_at.unwrap();
    assert!(
        (expiry.0 - commune_controller::now().0 - 86_400_000).abs() < 60_000,
        "valid one day"
    );
    assert!(c.staff_api(&holder).recheck().await.is_ok());
    assert_eq!(
        api.revoke_api_token("accueil", "inventaire").await.unwrap(),
        1
    );
    assert!(c.api_identity(&token).await.is_none(), "revoked");
    assert!(c.staff_api(&holder).recheck().await.is_err());
    assert!(api.revoke_api_token("accueil", "inventaire").await.is_err());
    // A token past its expiry (made in the past, straight in the store).
    let old = "cmn-api-ancien";
    let past = commune_controller::now().plus_secs(-100 * 86_400);
    c.store()
        .create_api_token(
            &commune_controller::staff::token_hash(old),
            "ancien",
            "accueil",
            past,
            past.plus_secs(90 * 86_400),
        )
        .await
        .unwrap();
    assert!(c.api_identity(old).await.is_none(), "expired");
    let default_ttl = c.create_api_token("accueil", "scripts").await.unwrap();
    assert!(c.api_identity(&default_ttl).await.is_some());

    // Disabled: no login, no session, no token; enabled again: the token works, the old
    // sessions stay ended.
    let (_, s1) = c.login("accueil", password, None).await.unwrap();
    let (accueil, _) = c.session_identity(&s1.token).await.unwrap();
    api.disable_account("accueil").await.unwrap();
    assert!(c.session_identity(&s1.token).await.is_none());
    assert!(c.api_identity(&default_ttl).await.is_none());
    assert!(c.login("accueil", password, None).await.is_err());
    assert!(
        c.staff_api(&accueil).recheck().await.is_err(),
        "the live stream ends"
    );
    assert!(matches!(
        api.disable_account("admin").await,
        Err(StaffError::Forbidden(Refusal::OwnAccount))
    ));
    c.staff_api(&cli).enable_account("accueil").await.unwrap();
    assert!(c.session_identity(&s1.token).await.is_none());
    assert!(c.api_identity(&default_ttl).await.is_some());

    // Changing one's password ends one's other sessions, not this one.
    let (_, s2) = c.login("accueil", password, None).await.unwrap();
    let (_, s3) = c.login("accueil", password, None).await.unwrap();
    let (accueil, _) = c.session_identity(&s2.token).await.unwrap();
    let me = c.staff_api(&accueil);
    assert!(matches!(
        me.change_own_password("pas le bon", "un autre mot de passe")
            .await,
        Err(StaffError::Forbidden(Refusal::WrongPassword))
    ));
    assert!(me.change_own_password(password, "court").await.is_err());
    me.change_own_password(password, "un autre mot de passe")
        .await
        .unwrap();
    assert!(
        c.session_identity(&s2.token).await.is_some(),
        "this one stays"
    );
    assert!(
        c.session_identity(&s3.token).await.is_none(),
        "the others end"
    );
    assert!(c.login("accueil", password, None).await.is_err());
    let (_, s4) = c
        .login("accueil", "un autre mot de passe", None)
        .await
        .unwrap();
    // An admin's reset ends every session; ending sessions ends them too.
    api.set_password("accueil", "le mot de passe remis")
        .await
        .unwrap();
    assert!(c.session_identity(&s2.token).await.is_none());
    assert!(c.session_identity(&s4.token).await.is_none());
    let (_, s5) = c
        .login("accueil", "le mot de passe remis", None)
        .await
        .unwrap();
    assert_eq!(api.account("accueil").await.unwrap().live_sessions, 1);
    assert_eq!(api.end_sessions("accueil").await.unwrap(), 1);
    assert!(c.session_identity(&s5.token).await.is_none());

    let log = c.store().audit_log(UtcMillis(0)).await.unwrap();
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    for expected in [
        ("admin", "api_token.create"),
        ("accueil", "api_token.create.refused"),
        ("admin", "api_token.revoke"),
        ("cli", "api_token.create"),
        ("admin", "user.disable"),
        ("admin", "user.disable.refused"),
        ("cli", "user.enable"),
        ("accueil", "user.own_password.refused"),
        ("accueil", "user.own_password"),
        ("admin", "user.password"),
        ("admin", "user.end_sessions"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} missing");
    }
    assert!(
        !log.iter().any(|e| e.detail.contains("mot de passe")),
        "no password in the audit log"
    );
}

/// Permanence counters are in La Coop de la médiation numérique's current categories: a
/// theme it added (`intelligence_artificielle`) is recorded, shown and exported; a made-up
/// category is refused; a record written before the themes (procedures only, in the store's
/// format of then) keeps its meaning in the report and the export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_are_in_la_coops_categories_and_old_records_keep_their_meaning() {
    use commune_controller::reports::{category_label, COOP_PROCEDURES, COOP_THEMES};
    use commune_controller::staff::OTHER_ACCOMPANIED;
    use commune_controller::store::CounterRecord;

    let ctrl = TestController::start().await;
    let c = &ctrl.controller;
    c.create_staff(
        "accueil",
        "Accueil",
        Role::Staff,
        &[SITE.into()],
        "un mot de passe long",
    )
    .await
    .unwrap();
    let (_, session) = c
        .login("accueil", "un mot de passe long", None)
        .await
        .unwrap();
    let accueil = c.session_identity(&session.token).await.unwrap().0;
    let api = c.staff_api(&accueil);

    // Every key once; the Coop's theme and its procedures apart.
    let keys: Vec<&str> = COOP_THEMES
        .iter()
        .chain(COOP_PROCEDURES)
        .map(|(k, _)| *k)
        .collect();
    let unique: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(unique.len(), keys.len());
    assert_eq!((COOP_THEMES.len(), COOP_PROCEDURES.len()), (19, 11));

    // A record from before the themes, as the store held it.
    let day = "2026-11-24";
    let day_start = UtcMillis(1_795_474_800_000 - 14 * 3_600_000);
    c.store()
        .add_counters(
            &CounterRecord {
                site_id: SITE.into(),
                permanence: OTHER_ACCOMPANIED.into(),
                day: day.into(),
                day_start,
                people: 5,
                categories: "aide_aux_demarches_administratives=3;logement=2".into(),
                recorded_by: "marie".into(),
            },
            day_start,
        )
        .await
        .unwrap();
    api.record_counters(
        SITE,
        OTHER_ACCOMPANIED,
        day,
        4,
        &[
            ("intelligence_artificielle".into(), 4),
            ("logement".into(), 1),
        ],
    )
    .await
    .unwrap();
    let refused = api
        .record_counters(SITE, OTHER_ACCOMPANIED, day, 1, &[("cuisine".into(), 1)])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("cuisine"), "{refused}");

    let (from, to) = (day_start, day_start.plus_secs(86_400));
    let report = api.report(SITE, from, to).await.unwrap();
    let line = report
        .lines
        .iter()
        .find(|l| l.key == OTHER_ACCOMPANIED)
        .expect("the accompanied line");
    assert_eq!(line.people, 9);
    let counts: Vec<(&str, u64)> = line
        .categories
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        counts,
        [
            ("aide_aux_demarches_administratives", 3),
            ("intelligence_artificielle", 4),
            ("logement", 3)
        ]
    );
    assert_eq!(
        category_label("aide_aux_demarches_administratives"),
        Some("Aide aux démarches administratives"),
        "an old key keeps its meaning"
    );
    assert_eq!(category_label("logement"), Some("Logement"));

    // The export: people received, then one column per Coop key.
    let csv = report.lines_csv(SITE, from, to);
    let rows = commune_tests::parse_csv(&csv, ';');
    let header = &rows[0];
    let at = |key: &str| header.iter().position(|h| h == key).unwrap();
    assert_eq!(header.len(), 8 + keys.len(), "{header:?}");
    let row = rows
        .iter()
        .find(|r| r.get(3).is_some_and(|k| k == OTHER_ACCOMPANIED))
        .unwrap();
    assert_eq!(row[at("personnes_recues")], "9");
    assert_eq!(row[at("intelligence_artificielle")], "4");
    assert_eq!(row[at("logement")], "3");
    assert_eq!(row[at("aide_aux_demarches_administratives")], "3");
    assert_eq!(row[at("email")], "0");
}
