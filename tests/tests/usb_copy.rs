//! "Copy to my USB stick", end to end, as root in private namespaces: a real block device
//! (a loop device over a file system image, laid out in a sysfs-shaped tree as a USB
//! disk: this CI kernel has no USB gadget nor FAT, so the image is ext2 and the agent is
//! configured to mount ext2), the real agent with its screens, the real controller, in
//! Debian's Chromium.
//!
//! The visitor presses the button before plugging the stick (told to plug it), then with
//! the stick: both documents are copied, the stick is unmounted by the agent (no mount of
//! the device left), a file of the same name already on the stick is kept (the copy gets
//! " (2)"), and the stick's own file is still there, unchanged. Screens in French and
//! Arabic pass axe-core and are saved in `target/screenshots/cle-*.png`.
#![recursion_limit = "256"]

use std::path::Path;
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::screens::i18n::{self, Texts};
use commune_protocol::messages::{SeatState, SlotKind};
use commune_protocol::slots::SiteSchedule;
use commune_tests::namespace::{self, sh};
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};
use serde_json::json;

fn t(texts: &Texts, lang: &str, id: &str) -> String {
    texts.get(i18n::language(lang).expect("language"), id, None)
}

fn t_count(texts: &Texts, lang: &str, id: &str, count: i64) -> String {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("count", count);
    texts.get(i18n::language(lang).expect("language"), id, Some(&args))
}

/// Mount lines of the device `major:minor` in this mount namespace.
fn mounts_of(dev: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.split(' ').nth(2) == Some(dev))
        .map(str::to_owned)
        .collect()
}

/// Plugs the "stick" in the sysfs-shaped tree `sys`: a USB device with a disk whose
/// device number is the loop device's.
fn plug(sys: &Path, disk: &str, dev: &str) {
    let usb = sys.join("devices/pci0000:00/0000:00:14.0/usb1/1-2");
    let scsi = usb.join("1-2:1.0/host6/target6:0:0/6:0:0:0");
    std::fs::create_dir_all(&scsi).unwrap();
    std::fs::write(usb.join("authorized"), "1").unwrap();
    std::fs::write(usb.join("idVendor"), "0781").unwrap();
    std::fs::create_dir_all(sys.join("block").join(disk)).unwrap();
    std::os::unix::fs::symlink(&scsi, sys.join("block").join(disk).join("device")).unwrap();
    std::fs::write(sys.join("block").join(disk).join("dev"), format!("{dev}\n")).unwrap();
}

#[test]
fn a_visitor_copies_documents_to_a_usb_stick_which_is_unmounted_after() {
    let name = "a_visitor_copies_documents_to_a_usb_stick_which_is_unmounted_after";
    if !namespace::test_inside(name) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("stick.img");
    let pre = work.path().join("pre");
    std::fs::create_dir_all(&pre).unwrap();
    sh(&format!(
        "truncate -s 24M '{0}' && mkfs.ext2 -q -F '{0}'",
        image.display()
    ));
    let loop_dev = std::process::Command::new("losetup")
        .args(["-f", "--show"])
        .arg(&image)
        .output()
        .expect("losetup (util-linux)");
    assert!(
        loop_dev.status.success(),
        "{}",
        String::from_utf8_lossy(&loop_dev.stderr)
    );
    let loop_dev = String::from_utf8(loop_dev.stdout)
        .unwrap()
        .trim()
        .to_string();
    let disk = loop_dev.trim_start_matches("/dev/").to_string();
    let dev = std::fs::read_to_string(format!("/sys/block/{disk}/dev"))
        .unwrap()
        .trim()
        .to_string();
    // What the visitor already keeps on their stick.
    sh(&format!(
        "mount -t ext2 {loop_dev} '{0}' && printf 'ancienne fiche' > '{0}/fiche.pdf' \
         && printf 'mes papiers' > '{0}/perso.txt' && umount '{0}'",
        pre.display()
    ));

    let result = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(visitor_copies(work.path(), &disk, &dev))
    });
    // The stick comes back as the visitor takes it home: read here, then let go.
    let after = work.path().join("after");
    std::fs::create_dir_all(&after).unwrap();
    let left_mounted = mounts_of(&dev);
    sh(&format!(
        "mount -t ext2 -o ro {loop_dev} '{}'",
        after.display()
    ));
    let read = |n: &str| std::fs::read(after.join(n)).unwrap_or_default();
    let files = (
        read("fiche.pdf"),
        read("fiche (2).pdf"),
        read("attestation CAF.pdf"),
        read("perso.txt"),
        read("fiche (3).pdf"),
    );
    sh(&format!(
        "umount '{}' && losetup -d {loop_dev}",
        after.display()
    ));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    assert!(
        left_mounted.is_empty(),
        "the agent left the stick mounted: {left_mounted:?}"
    );
    let scan = std::fs::read(work.path().join("scan.pdf")).unwrap();
    assert_eq!(
        files.0, b"ancienne fiche",
        "a file already there is never overwritten"
    );
    assert!(files.1 == scan, "the copy differs from the document");
    assert_eq!(files.2, b"%PDF attestation");
    assert_eq!(files.3, b"mes papiers", "the stick's own file is untouched");
    assert!(
        files.4 == scan,
        "the second copy (in Arabic) gets its own name"
    );
}

async fn visitor_copies(work: &Path, disk: &str, dev: &str) {
    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();
    let texts = Texts::load().expect("the screens' languages");
    let fr = |id| t(&texts, "fr", id);
    let ar = |id| t(&texts, "ar", id);

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    config.screens.listen = "127.0.0.1:0".into();
    let sys = work.join("sys");
    std::fs::create_dir_all(sys.join("block")).unwrap();
    config.guard.sysfs = sys.clone();
    config.guard.usb_filesystems = vec!["ext2".into()];
    let seat = config.agent_id.clone();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seats = vec![seat.clone()];
    c.staff_api(&cli).set_schedule(SITE, model).await.unwrap();

    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().expect("a session manager");
    let screens = agent.screens.expect("the screens' address");
    eventually(20, "the seat is ready", || {
        let sessions = sessions.clone();
        async move { sessions.status().state == SeatState::Ready }
    })
    .await;
    let session = sessions.start_session(SlotKind::Free, None).await.unwrap();
    let mut scan = b"%PDF-1.4 fiche de paie\n".to_vec();
    scan.extend((0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(work.join("scan.pdf"), &scan).unwrap();
    std::fs::create_dir_all(session.home.join("Numérisations")).unwrap();
    std::fs::create_dir_all(session.home.join("Téléchargements")).unwrap();
    std::fs::write(session.home.join("Numérisations/fiche.pdf"), &scan).unwrap();
    std::fs::write(
        session.home.join("Téléchargements/attestation CAF.pdf"),
        b"%PDF attestation",
    )
    .unwrap();
    eventually(10, "the documents are listed", || {
        let sessions = sessions.clone();
        async move { sessions.documents().await.len() == 2 }
    })
    .await;

    let copied_two = t_count(&texts, "fr", "usb-done-count", 2);
    let copied_one_ar = t_count(&texts, "ar", "usb-done-count", 1);
    let scenario = json!({
        "baseUrl": format!("http://{screens}"),
        "timeoutSecs": 150,
        "stepTimeoutSecs": 15,
        "steps": [
            {"goto": "/fr/fin"},
            {"expectText": fr("usb-copy-explain")},
            {"expectJs": "document.querySelectorAll('input[type=checkbox]:checked').length === 2"},
            {"axe": true},
            {"screenshot": shot("cle-liste-fr.png")},
            // Pressed before the stick is in: told to plug it.
            {"click": fr("usb-copy-submit")},
            {"expectText": fr("usb-no-stick")},
            {"axe": true},
            {"screenshot": shot("cle-absente-fr.png")},
            {"goto": "/ar/fin"},
            {"click": ar("usb-copy-submit")},
            {"expectText": ar("usb-no-stick")},
            {"axe": true},
            {"screenshot": shot("cle-absente-ar.png")},
            {"note": "the visitor plugs the stick in"},
            {"goto": "/fr/fin"},
            {"click": fr("usb-copy-submit")},
            {"expectText": fr("usb-done-title")},
            {"expectText": copied_two},
            {"expectText": fr("usb-done-remove")},
            {"axe": true},
            {"screenshot": shot("cle-copiee-fr.png")},
            // In Arabic, only the scan this time.
            {"goto": "/ar/fin"},
            {"expectText": ar("usb-copy-title")},
            {"expectJs": "document.documentElement.dir === 'rtl'"},
            {"axe": true},
            {"screenshot": shot("cle-liste-ar.png")},
            {"click": "label[for=usb-1]"},
            {"expectJs": "document.querySelectorAll('input[type=checkbox]:checked').length === 1"},
            {"click": ar("usb-copy-submit")},
            {"expectText": copied_one_ar},
            {"axe": true},
            {"screenshot": shot("cle-copiee-ar.png")},
        ],
    });
    let (sys_tree, disk_name, dev_number) = (sys.clone(), disk.to_string(), dev.to_string());
    commune_tests::browser::run(&scenario, Duration::from_secs(180), move |note| {
        let (sys, disk, dev) = (sys_tree.clone(), disk_name.clone(), dev_number.clone());
        async move {
            if note == "the visitor plugs the stick in" {
                plug(&sys, &disk, &dev);
            }
        }
    })
    .await;
    assert!(mounts_of(dev_str(&sys, disk).as_str()).is_empty());
    for name in [
        "cle-liste-fr.png",
        "cle-absente-fr.png",
        "cle-absente-ar.png",
        "cle-copiee-fr.png",
        "cle-liste-ar.png",
        "cle-copiee-ar.png",
    ] {
        assert!(shots.join(name).exists(), "screenshot {name}");
    }
}

fn dev_str(sys: &Path, disk: &str) -> String {
    std::fs::read_to_string(sys.join("block").join(disk).join("dev"))
        .unwrap()
        .trim()
        .to_string()
}
