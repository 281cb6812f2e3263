//! Wipe benchmark: a session with a realistic footprint (a browser profile of thousands of
//! files, downloads and scans, about 100 processes, files in /tmp) timed from end-session
//! to verified, beside the bare unmount of a tmpfs holding the same tree, in the same run.
//!
//! Runs as root inside private namespaces (it re-executes itself under `unshare`), with a
//! real account on an overlay of /etc, like the root tests.
//!
//! The **seat turnaround** is the end of one session to the next session ready for the same
//! profile: the wipe (verification included), then the next account and its tmpfs home
//! filled from the skeleton.
//!
//! `cargo bench -p commune-agent --bench wipe [-- --short]`; the last line prints both
//! times, their ratio and the turnaround.

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the wipe benchmark needs Linux");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::unix::fs::chown;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use commune_agent::platform::linux::{LinuxConfig, LinuxDirect};
    use commune_agent::platform::{SessionPlatform, SessionSpec};
    use commune_protocol::messages::SlotKind;
    use commune_tests::namespace;
    use nix::mount::{mount, umount2, MntFlags, MsFlags};

    struct Footprint {
        profile_files: usize,
        downloads: usize,
        scans: usize,
        processes: usize,
        rounds: usize,
    }

    pub(super) fn main() {
        let short = std::env::args().any(|a| a == "--short");
        if !namespace::inside() {
            let args: Vec<String> = std::env::args().skip(1).collect();
            let status = namespace::rerun_inside(&args);
            std::process::exit(status.code().unwrap_or(1));
        }
        let footprint = if short {
            Footprint {
                profile_files: 1_000,
                downloads: 5,
                scans: 3,
                processes: 30,
                rounds: 2,
            }
        } else {
            Footprint {
                profile_files: 5_000,
                downloads: 20,
                scans: 10,
                processes: 100,
                rounds: 7,
            }
        };
        namespace::prepare_session_places();
        let state = PathBuf::from("/run/bench-state");
        std::fs::create_dir_all(&state).unwrap();
        let platform = LinuxDirect::new(LinuxConfig {
            uid_first: 62000,
            uid_last: 62099,
            home_base: PathBuf::from("/home/commune"),
            home_size_mib: 1024,
            skeleton: Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/skel"),
            state_dir: state,
            cgroup_name: format!("commune-bench-{}", std::process::id()),
            ..LinuxConfig::default()
        })
        .expect("platform");

        println!(
            "footprint: {} profile files, {} downloads (1 MiB), {} scans (2 MiB), {} processes; {} rounds",
            footprint.profile_files,
            footprint.downloads,
            footprint.scans,
            footprint.processes,
            footprint.rounds
        );
        let mut wipes = Vec::new();
        let mut unmounts = Vec::new();
        let mut turnarounds = Vec::new();
        for round in 0..footprint.rounds {
            let bare = bare_unmount(&footprint);
            let (wipe, ready) = session_wipe(&platform, &footprint, round);
            println!(
                "round {round}: wipe {:.1} ms, bare unmount {:.1} ms, next session ready {:.1} ms",
                ms(wipe),
                ms(bare),
                ms(ready)
            );
            wipes.push(wipe);
            unmounts.push(bare);
            turnarounds.push(wipe + ready);
        }
        let (w, u, t) = (
            median(&mut wipes),
            median(&mut unmounts),
            median(&mut turnarounds),
        );
        println!(
            "wipe (end-session to verified) median {:.1} ms; bare tmpfs unmount of the same tree {:.1} ms; ratio {:.2}x; seat turnaround (end to next session ready) {:.1} ms (target < 1000 ms)",
            ms(w),
            ms(u),
            w.as_secs_f64() / u.as_secs_f64().max(1e-9),
            ms(t)
        );
    }

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }

    fn median(v: &mut [Duration]) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    /// Writes the session's tree: a browser profile in nested folders, downloads, scans.
    fn populate(home: &Path, f: &Footprint, owner: Option<(u32, u32)>) {
        let small = vec![b'x'; 4096];
        let mb = vec![b'y'; 1 << 20];
        let profile = home.join(".mozilla/firefox/commune.default");
        for i in 0..f.profile_files {
            let dir = profile.join(format!("cache2/entries/{:02x}", i % 64));
            if i < 64 {
                std::fs::create_dir_all(&dir).unwrap();
            }
            std::fs::write(dir.join(format!("{i:08X}")), &small).unwrap();
        }
        let downloads = home.join("Téléchargements");
        let scans = home.join("Numérisations");
        std::fs::create_dir_all(&downloads).unwrap();
        std::fs::create_dir_all(&scans).unwrap();
        for i in 0..f.downloads {
            std::fs::write(downloads.join(format!("document-{i}.pdf")), &mb).unwrap();
        }
        for i in 0..f.scans {
            std::fs::write(
                scans.join(format!("scan-{i}.jpg")),
                [&mb[..], &mb[..]].concat(),
            )
            .unwrap();
        }
        if let Some((uid, gid)) = owner {
            // The visitor owns what it wrote (ownership does not change the unmount cost).
            chown(&downloads, Some(uid), Some(gid)).unwrap();
            chown(&scans, Some(uid), Some(gid)).unwrap();
        }
    }

    fn bare_unmount(f: &Footprint) -> Duration {
        let dir = Path::new("/home/bench-baseline");
        std::fs::create_dir_all(dir).unwrap();
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=1024m,mode=0700"),
        )
        .unwrap();
        populate(dir, f, None);
        let start = Instant::now();
        umount2(dir, MntFlags::empty()).unwrap();
        start.elapsed()
    }

    /// The wipe's time, and the next session's preparation time (account, home, skeleton).
    fn session_wipe(platform: &LinuxDirect, f: &Footprint, round: usize) -> (Duration, Duration) {
        let spec = SessionSpec {
            session_id: format!("bench-{round}"),
            kind: SlotKind::Free,
        };
        let account = platform.plan_account(&spec).unwrap();
        platform.create_account(&account).unwrap();
        populate(&account.home, f, Some((account.uid, account.gid)));
        let mut children = Vec::new();
        for i in 0..f.processes {
            let argv = if i == 0 {
                vec![
                    "/bin/sh".into(),
                    "-c".into(),
                    "echo tmp > /tmp/session-file; echo shm > /dev/shm/session-shm; exec sleep 1000"
                        .into(),
                ]
            } else {
                vec!["sleep".into(), "1000".into()]
            };
            children.push(platform.spawn(&account, &argv, &[]).unwrap());
        }
        // Every process is running before the clock starts.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new("/dev/shm/session-shm").exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let start = Instant::now();
        let report = commune_agent::wipe::wipe(platform, &account, &spec.session_id, true);
        let elapsed = start.elapsed();
        // The next visitor's session, ready: a new account and its home from the skeleton.
        let next_spec = SessionSpec {
            session_id: format!("bench-{round}-next"),
            kind: SlotKind::Free,
        };
        let start = Instant::now();
        let next = platform.plan_account(&next_spec).unwrap();
        platform.create_account(&next).unwrap();
        let ready = start.elapsed();
        let cleanup = commune_agent::wipe::wipe(platform, &next, &next_spec.session_id, false);
        assert!(
            cleanup.verified,
            "{}",
            commune_agent::wipe::failure_summary(&cleanup)
        );
        assert!(
            report.verified,
            "the benchmark's wipe did not verify: {}",
            commune_agent::wipe::failure_summary(&report)
        );
        for mut c in children {
            let _ = c.wait();
        }
        if std::env::var_os("COMMUNE_BENCH_STEPS").is_some() {
            for s in &report.steps {
                println!(
                    "    step {:<22} {:>7.2} ms  count {}",
                    s.name,
                    s.duration_us as f64 / 1000.0,
                    s.count
                );
            }
            // The account step runs beside the others: its time overlaps theirs.
            let steps: u64 = report
                .steps
                .iter()
                .filter(|s| s.name != "account")
                .map(|s| s.duration_us)
                .sum();
            println!(
                "    checks {:>7.2} ms",
                report.total_us.saturating_sub(steps) as f64 / 1000.0
            );
        }
        (elapsed, ready)
    }
}
