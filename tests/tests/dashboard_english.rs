//! The dashboard in English: `/langue/en` sets the language cookie and sends the person back
//! to the page they came from; then every page is English (with `lang="en"`), the live seat
//! states too; without the cookie, or with `commune_lang=fr`, pages are French.

use commune_controller::staff::Role;
use commune_tests::web::{self, form, http, serve_dashboard};
use commune_tests::{enroll_agent, TestAgent, TestController, SITE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_switches_to_english_and_french_stays_the_default() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ctrl = TestController::start().await;
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await).await.unwrap();
    config.sessions.platform = commune_agent::config::PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = agent.config.agent_id.clone();
    let c = ctrl.controller.clone();
    c.create_staff("it", "IT", Role::It, &[], "un mot de passe long")
        .await
        .unwrap();
    let addr = serve_dashboard(c.clone()).await;

    let seat_path = format!("/postes/{seat}");
    let session = tokio::task::spawn_blocking(move || {
        // The login page alone follows the cookie too; the browser's language does not count.
        let login_fr = http(addr, "GET", "/connexion", &[("Accept-Language", "en")], "");
        assert!(login_fr.body.contains("lang=\"fr\"") && login_fr.body.contains("Mot de passe"));
        assert!(login_fr.body.contains("href=\"/langue/en\""));
        let login_en = http(
            addr,
            "GET",
            "/connexion",
            &[("Cookie", "commune_lang=en")],
            "",
        );
        assert!(login_en.body.contains("lang=\"en\"") && login_en.body.contains("Password"));
        assert!(login_en.body.contains("href=\"/langue/fr\""));
        let wrong = web::post_login(addr, &[("Cookie", "commune_lang=en")], "it", "mauvais");
        assert_eq!(wrong.status, 401);
        assert!(
            wrong.body.contains("wrong login or password"),
            "{}",
            wrong.body
        );

        let login = web::post_login(addr, &[], "it", "un mot de passe long");
        let session = login.cookie().unwrap();

        // The switch: a cookie for the whole site, and back to the page the person was on.
        let back = format!("http://{addr}/sites/{SITE}/tickets");
        let switch = http(
            addr,
            "GET",
            "/langue/en",
            &[("Cookie", &session), ("Referer", &back)],
            "",
        );
        assert!((300..400).contains(&switch.status), "{}", switch.status);
        let set = switch.set_cookie().unwrap().to_string();
        assert!(set.starts_with("commune_lang=en;"), "{set}");
        assert!(
            set.contains("path=/") && set.contains("samesite=strict"),
            "{set}"
        );
        assert!(
            switch
                .headers
                .contains(&format!("location: /sites/{SITE}/tickets")),
            "{}",
            switch.headers
        );
        // Another site's address, or none: back to the fleet page; an unknown code is French.
        let elsewhere = http(
            addr,
            "GET",
            "/langue/de",
            &[("Referer", "https://ailleurs.example/piege")],
            "",
        );
        assert!(
            elsewhere.headers.contains("location: /\r")
                || elsewhere.headers.contains("location: /\n")
        );
        assert!(elsewhere.headers.contains("set-cookie: commune_lang=fr;"));

        let pages = [
            ("/".to_string(), "Computer fleet", "Parc informatique"),
            (
                format!("/sites/{SITE}/permanences"),
                "Open a supervised slot now",
                "Ouvrir un créneau supervisé maintenant",
            ),
            (
                format!("/sites/{SITE}/tickets"),
                "Free-access tickets",
                "Nombre de tickets",
            ),
            (
                format!("/sites/{SITE}/rapports"),
                "Per funded computer",
                "Par poste financé",
            ),
            (seat_path.clone(), "Recent wipes", "Effacements récents"),
            (
                "/appareils".to_string(),
                "Enroll a computer",
                "Enrôler un poste",
            ),
        ];
        let english = format!("{session}; commune_lang=en");
        let french = format!("{session}; commune_lang=fr");
        for (path, en, fr) in &pages {
            let page = http(addr, "GET", path, &[("Cookie", &english)], "");
            assert_eq!(page.status, 200, "{path}");
            assert!(
                page.body.contains("<html lang=\"en\">"),
                "{path}: {}",
                page.body
            );
            assert!(page.body.contains(en), "{path} in English: {}", page.body);
            assert!(
                !page.body.contains(fr),
                "{path} still French: {}",
                page.body
            );
            assert!(page.body.contains("Skip to content"), "{path}");
            assert!(
                page.body.contains("hreflang=\"fr\""),
                "{path}: the way back"
            );
            for cookie in [&french, &session] {
                let page = http(addr, "GET", path, &[("Cookie", cookie)], "");
                assert!(page.body.contains("<html lang=\"fr\">"), "{path}");
                assert!(page.body.contains(fr), "{path} in French: {}", page.body);
                assert!(!page.body.contains(en), "{path} not French: {}", page.body);
            }
        }
        // The seat's state, on the fleet page and on the permanences page.
        let fleet = http(addr, "GET", "/", &[("Cookie", &english)], "");
        assert!(fleet.body.contains("Online — free"), "{}", fleet.body);
        assert!(fleet.body.contains(" computers enrolled, "));
        let permanences = http(
            addr,
            "GET",
            &format!("/sites/{SITE}/permanences"),
            &[("Cookie", &english)],
            "",
        );
        assert!(permanences
            .body
            .contains("Help with administrative procedures"));
        let report = http(
            addr,
            "GET",
            &format!("/sites/{SITE}/rapports"),
            &[("Cookie", &english)],
            "",
        );
        assert!(
            report.body.contains("sum of the sessions&#39; lengths")
                || report.body.contains("sum of the sessions' lengths")
        );
        // A refusal in English: a form without its CSRF token.
        let refused = http(
            addr,
            "POST",
            &format!("/sites/{SITE}/tickets"),
            &[("Cookie", &english)],
            &form(&[("count", "1"), ("minutes", "45"), ("days", "1")]),
        );
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("Action refused") && refused.body.contains("lang=\"en\""));
        english
    })
    .await
    .unwrap();

    // The live states follow the person's language.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /evenements HTTP/1.1\r\nHost: {addr}\r\nCookie: {session}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let needle = format!("\"{seat}\":[\"Online — free\",\"online\"]");
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains(&needle) {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no `{needle}` in the event stream: {seen}"))
            .unwrap();
        assert!(n > 0, "the event stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}
