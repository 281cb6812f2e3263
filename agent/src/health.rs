//! Health snapshots and inventory: facts about the machine, read from the OS.
//!
//! Privacy: only the machine is described. Nothing here reads users, processes, open files
//! or URLs, and the few places where a visitor's belongings could show up as hardware are
//! filtered out on purpose: USB sticks and their mount points (which carry a user name and
//! a volume label), removable block devices, and phones tethered over USB.
//!
//! Everything reads `/sys`, `/proc` and `/etc/os-release` through `sysinfo` or directly;
//! on a machine without them the figures are empty or `None`, never an error, because a
//! partial report is worth more to IT than none.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use commune_protocol::health::{DiskInfo, DiskUsage, HealthSnapshot, Inventory, Temperature};
use commune_protocol::UtcMillis;
use sysinfo::{Components, CpuRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

const DMI_DIR: &str = "/sys/class/dmi/id";
const NET_DIR: &str = "/sys/class/net";
const BLOCK_DIR: &str = "/sys/block";

/// Takes health snapshots, keeping what CPU use is measured against between two calls.
///
/// CPU use is the share of the whole machine's time spent busy since the previous snapshot
/// (or since `new` for the first one), in percent of all cores. The kernel's counters move
/// only every few ticks, so `sysinfo` does not read them again within
/// [`sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`] (200 ms on Linux): a snapshot that soon after
/// the previous one, or after `new`, repeats the previous figure, which for a first
/// snapshot is the average since boot. At the heartbeat's pace every snapshot is an
/// average over its own interval.
#[derive(Debug)]
pub struct HealthCollector {
    system: System,
    disks: Disks,
    components: Components,
    // Fixed until the next boot, which restarts the agent: read once.
    os: String,
    kernel: String,
}

impl HealthCollector {
    /// Reads the first CPU counters, the mounted disks and the temperature sensors.
    pub fn new() -> Self {
        let system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_cpu_usage())
                .with_memory(MemoryRefreshKind::everything()),
        );
        HealthCollector {
            system,
            disks: Disks::new_with_refreshed_list(),
            components: Components::new_with_refreshed_list(),
            os: os_name(),
            kernel: kernel_release(),
        }
    }

    /// The machine's health now. `now` is stamped as given: the collector never reads the wall clock.
    pub fn snapshot(&mut self, now: UtcMillis, agent_version: &str) -> HealthSnapshot {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        // `true` drops file systems unmounted since the last call and lists new ones.
        self.disks.refresh(true);
        self.components.refresh(true);

        let load = System::load_average();
        HealthSnapshot {
            at: now,
            cpu_percent: self.system.global_cpu_usage(),
            load_average: [load.one, load.five, load.fifteen],
            memory_used_bytes: self.system.used_memory(),
            memory_total_bytes: self.system.total_memory(),
            swap_used_bytes: self.system.used_swap(),
            swap_total_bytes: self.system.total_swap(),
            disks: disk_usage(&self.disks),
            temperatures: temperatures(&self.components),
            uptime_secs: System::uptime(),
            os: self.os.clone(),
            kernel: self.kernel.clone(),
            agent_version: agent_version.to_owned(),
        }
    }
}

impl Default for HealthCollector {
    fn default() -> Self {
        Self::new()
    }
}

/// What the computer is. `asset_tag` and `funding_line` come from the agent's
/// configuration, since no hardware register holds the city's label or the grant.
pub fn inventory(
    now: UtcMillis,
    agent_version: &str,
    asset_tag: Option<String>,
    funding_line: Option<String>,
) -> Inventory {
    let system = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    let cpu_model = system
        .cpus()
        .iter()
        .map(|cpu| cpu.brand().trim())
        .find(|brand| !brand.is_empty())
        .unwrap_or("unknown")
        .to_owned();
    let dmi = Path::new(DMI_DIR);
    Inventory {
        at: now,
        hostname: hostname(),
        dmi_serial: read_dmi(dmi, "product_serial"),
        dmi_vendor: read_dmi(dmi, "sys_vendor"),
        dmi_product: read_dmi(dmi, "product_name"),
        mac_addresses: mac_addresses(Path::new(NET_DIR)),
        cpu_model,
        cpu_count: u32::try_from(system.cpus().len()).unwrap_or(u32::MAX),
        memory_total_bytes: system.total_memory(),
        disks: block_disks(Path::new(BLOCK_DIR)),
        asset_tag,
        funding_line,
        os: os_name(),
        kernel: kernel_release(),
        agent_version: agent_version.to_owned(),
    }
}

fn os_name() -> String {
    let name = System::name().unwrap_or_else(|| std::env::consts::OS.to_owned());
    match System::os_version() {
        Some(version) if !version.is_empty() => format!("{name} {version}"),
        _ => name,
    }
}

fn kernel_release() -> String {
    System::kernel_version()
        .filter(|k| !k.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn hostname() -> String {
    System::host_name()
        .or_else(|| read_trimmed(Path::new("/proc/sys/kernel/hostname")))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// File systems that are not storage of this computer: kernel interfaces, memory, network
/// shares, read-only images (snaps, CDs).
const NOT_STORAGE: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "cifs",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fuse",
    "fusectl",
    "hugetlbfs",
    "iso9660",
    "mqueue",
    "nfs",
    "nfs4",
    "nsfs",
    "proc",
    "pstore",
    "ramfs",
    "rpc_pipefs",
    "securityfs",
    "smb3",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
    "udf",
];

/// Whether a mounted file system belongs in the health report.
fn is_reported_mount(file_system: &str, mount_point: &str, removable: bool) -> bool {
    // Where desktops mount a visitor's USB stick, under a path naming the user and the
    // stick's label.
    let visitor_media = ["/media", "/run/media"].iter().any(|dir| {
        mount_point
            .strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    });
    if removable || visitor_media {
        return false;
    }
    match file_system {
        // Kiosk images often run on an overlay root; elsewhere overlays are containers'.
        "overlay" => mount_point == "/",
        // fuse.sshfs, fuse.gvfsd-fuse and the like; fuseblk (NTFS on a local disk) stays.
        fs if fs.starts_with("fuse.") => false,
        fs => !NOT_STORAGE.contains(&fs),
    }
}

fn disk_usage(disks: &Disks) -> Vec<DiskUsage> {
    // The same device mounted twice (bind mounts, btrfs subvolumes) would count its space
    // twice; /proc/mounts lists / first, so the shortest path usually wins.
    let mut devices = HashSet::new();
    disks
        .list()
        .iter()
        .filter(|disk| {
            let fs = disk.file_system().to_string_lossy();
            let mount = disk.mount_point().to_string_lossy();
            is_reported_mount(&fs, &mount, disk.is_removable())
                && disk.total_space() > 0
                && devices.insert(disk.name().to_owned())
        })
        .map(|disk| DiskUsage {
            mount_point: disk.mount_point().to_string_lossy().into_owned(),
            file_system: disk.file_system().to_string_lossy().into_owned(),
            total_bytes: disk.total_space(),
            available_bytes: disk.available_space(),
        })
        .collect()
}

fn temperatures(components: &Components) -> Vec<Temperature> {
    components
        .list()
        .iter()
        .filter_map(|component| {
            let celsius = component.temperature().filter(|t| t.is_finite())?;
            Some(Temperature {
                label: component.label().to_owned(),
                celsius,
            })
        })
        .collect()
}

fn read_trimmed(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn read_dmi(dir: &Path, field: &str) -> Option<String> {
    // product_serial is readable by root only; the agent runs as root, tests may not.
    let raw = fs::read(dir.join(field)).ok()?;
    clean_dmi(&String::from_utf8_lossy(&raw))
}

/// Firmware strings that board makers leave instead of a value.
const DMI_PLACEHOLDERS: &[&str] = &[
    "base board serial number",
    "chassis serial number",
    "default string",
    "n/a",
    "none",
    "not applicable",
    "not available",
    "not specified",
    "o.e.m.",
    "oem",
    "system manufacturer",
    "system product name",
    "system serial number",
    "system version",
    "to be filled by o.e.m.",
    "type1productconfigid",
    "unknown",
];

/// A DMI string as IT can use it, or `None` for an empty or placeholder value.
fn clean_dmi(raw: &str) -> Option<String> {
    let value = raw
        .trim_matches(|c: char| c.is_whitespace() || c.is_control())
        .to_owned();
    let lower = value.to_ascii_lowercase();
    // "0", "00000000", "FFFFFFFF", "........": filled, but with nothing.
    let one_char_repeated = value
        .chars()
        .next()
        .is_some_and(|first| "0fFxX. -".contains(first) && value.chars().all(|c| c == first));
    if value.is_empty()
        || one_char_repeated
        || DMI_PLACEHOLDERS.contains(&lower.as_str())
        || lower == "0123456789"
        || lower == "123456789"
    {
        None
    } else {
        Some(value)
    }
}

/// Drivers of phones sharing their connection over USB: a visitor's phone, not the computer.
const TETHERING_DRIVERS: &[&str] = &["ipheth", "rndis_host", "cdc_ncm"];

/// MAC addresses of the computer's network cards, sorted, from a `/sys/class/net` tree.
///
/// Cards are the interfaces backed by a device; bridges, tunnels, VPNs and containers'
/// veths are not. Some virtual machines expose no device at all, so if that leaves
/// nothing, every interface with a real address is reported rather than none.
fn mac_addresses(net_dir: &Path) -> Vec<String> {
    let mut physical = Vec::new();
    let mut virtual_ = Vec::new();
    let Ok(entries) = fs::read_dir(net_dir) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let iface = entry.path();
        if entry.file_name() == "lo" {
            continue;
        }
        let Some(mac) = read_trimmed(&iface.join("address")).and_then(|a| clean_mac(&a)) else {
            continue;
        };
        let driver = fs::read_link(iface.join("device/driver")).ok();
        let driver = driver
            .as_deref()
            .and_then(Path::file_name)
            .map(|d| d.to_string_lossy().into_owned());
        if driver.is_some_and(|d| TETHERING_DRIVERS.contains(&d.as_str())) {
            continue;
        }
        if iface.join("device").exists() {
            physical.push(mac);
        } else {
            virtual_.push(mac);
        }
    }
    let mut macs = if physical.is_empty() {
        virtual_
    } else {
        physical
    };
    macs.sort();
    // Bonded cards share one address.
    macs.dedup();
    macs
}

/// A lowercase `xx:xx:xx:xx:xx:xx`, or `None` for all zeros and for other link types'
/// addresses (InfiniBand's are 20 bytes, tunnels' may be empty).
fn clean_mac(raw: &str) -> Option<String> {
    let mac = raw.trim().to_ascii_lowercase();
    let octets: Vec<&str> = mac.split(':').collect();
    let well_formed = octets.len() == 6
        && octets
            .iter()
            .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
    let zero = octets.iter().all(|o| *o == "00");
    (well_formed && !zero).then_some(mac)
}

/// The computer's own disks from a `/sys/block` tree, sorted by name.
fn block_disks(block_dir: &Path) -> Vec<DiskInfo> {
    let Ok(entries) = fs::read_dir(block_dir) else {
        return Vec::new();
    };
    let mut disks: Vec<DiskInfo> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let dev = entry.path();
            let flag = |file: &str| read_trimmed(&dev.join(file)).is_some_and(|v| v == "1");
            // Loop, RAM, compressed-swap and device-mapper devices sit on top of real disks
            // or of memory; md and nbd likewise. eMMC boot areas are part of their card.
            let layered = ["loop", "ram", "zram", "dm-", "md", "nbd"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                || (name.starts_with("mmcblk") && name.contains("boot"));
            // Removable media (USB sticks, card readers, CDs) are a visitor's, and hidden
            // devices are NVMe multipath paths to a disk listed under its own name.
            if layered || flag("removable") || flag("hidden") || !dev.join("device").exists() {
                return None;
            }
            let sectors: u64 = read_trimmed(&dev.join("size"))?.parse().ok()?;
            if sectors == 0 {
                // A drive without a medium.
                return None;
            }
            let kind = match read_trimmed(&dev.join("queue/rotational")).as_deref() {
                Some("0") => "SSD",
                Some("1") => "HDD",
                _ => "unknown",
            };
            Some(DiskInfo {
                name,
                kind: kind.to_owned(),
                // The kernel counts `size` in 512-byte sectors whatever the block size.
                total_bytes: sectors.saturating_mul(512),
            })
        })
        .collect();
    disks.sort_by(|a, b| a.name.cmp(&b.name));
    disks
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;

    const T0: UtcMillis = UtcMillis(1_795_183_200_000);

    fn write(path: PathBuf, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn placeholder_dmi_strings_are_not_reported() {
        for raw in [
            "To be filled by O.E.M.\n",
            "TO BE FILLED BY O.E.M.",
            "Default string",
            "System Serial Number",
            "0",
            "00000000",
            "  \n",
            "",
            "Not Specified",
        ] {
            assert_eq!(clean_dmi(raw), None, "{raw:?} was kept");
        }
    }

    #[test]
    fn real_dmi_strings_are_trimmed_and_kept() {
        assert_eq!(clean_dmi("LENOVO\n"), Some("LENOVO".to_owned()));
        assert_eq!(clean_dmi(" PF2ABC0X \n"), Some("PF2ABC0X".to_owned()));
        // A real serial may contain zeros; only all-zero values are placeholders.
        assert_eq!(clean_dmi("0000A1"), Some("0000A1".to_owned()));
    }

    #[test]
    fn missing_or_unreadable_dmi_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_dmi(dir.path(), "product_serial"), None);
        write(dir.path().join("sys_vendor"), "Dell Inc.\n");
        assert_eq!(read_dmi(dir.path(), "sys_vendor"), Some("Dell Inc.".into()));
    }

    #[test]
    fn mac_addresses_come_from_devices_not_virtual_interfaces() {
        let net = tempfile::tempdir().unwrap();
        let n = net.path();
        write(n.join("lo/address"), "00:00:00:00:00:00\n");
        write(n.join("enp3s0/address"), "A4:BB:6D:01:02:03\n");
        fs::create_dir_all(n.join("enp3s0/device")).unwrap();
        write(n.join("wlp2s0/address"), "3c:58:c2:aa:bb:cc\n");
        fs::create_dir_all(n.join("wlp2s0/device")).unwrap();
        write(n.join("docker0/address"), "02:42:ac:11:00:02\n");
        write(n.join("wg0/address"), "\n");
        // A visitor's phone tethered over USB has a device too.
        write(n.join("usb0/address"), "9a:1b:2c:3d:4e:5f\n");
        fs::create_dir_all(n.join("usb0/device")).unwrap();
        fs::create_dir_all(n.join("drivers/rndis_host")).unwrap();
        symlink(n.join("drivers/rndis_host"), n.join("usb0/device/driver")).unwrap();

        assert_eq!(
            mac_addresses(n),
            vec![
                "3c:58:c2:aa:bb:cc".to_owned(),
                "a4:bb:6d:01:02:03".to_owned()
            ]
        );
    }

    #[test]
    fn without_any_device_backed_interface_the_others_are_reported() {
        let net = tempfile::tempdir().unwrap();
        let n = net.path();
        write(n.join("lo/address"), "00:00:00:00:00:00\n");
        write(n.join("eth0/address"), "52:54:00:12:34:56\n");
        write(n.join("dummy0/address"), "00:00:00:00:00:00\n");
        assert_eq!(mac_addresses(n), vec!["52:54:00:12:34:56".to_owned()]);
    }

    #[test]
    fn block_disks_skip_layered_removable_and_empty_devices() {
        let block = tempfile::tempdir().unwrap();
        let b = block.path();
        let disk = |name: &str, sectors: &str, rotational: &str, removable: &str| {
            write(b.join(name).join("size"), sectors);
            write(b.join(name).join("queue/rotational"), rotational);
            write(b.join(name).join("removable"), removable);
            fs::create_dir_all(b.join(name).join("device")).unwrap();
        };
        disk("nvme0n1", "1000215216\n", "0\n", "0\n");
        disk("sda", "3907029168\n", "1\n", "0\n");
        disk("sdb", "30031872\n", "1\n", "1\n"); // USB stick
        disk("sr0", "0\n", "1\n", "0\n"); // empty optical drive
        disk("mmcblk0boot0", "8192\n", "0\n", "0\n");
        write(b.join("loop0/size"), "1024\n");
        write(b.join("zram0/size"), "8388608\n");
        write(b.join("dm-0/size"), "1000000\n");

        assert_eq!(
            block_disks(b),
            vec![
                DiskInfo {
                    name: "nvme0n1".into(),
                    kind: "SSD".into(),
                    total_bytes: 1000215216 * 512,
                },
                DiskInfo {
                    name: "sda".into(),
                    kind: "HDD".into(),
                    total_bytes: 3907029168 * 512,
                },
            ]
        );
    }

    #[test]
    fn only_storage_mounts_are_reported() {
        assert!(is_reported_mount("ext4", "/", false));
        assert!(is_reported_mount("vfat", "/boot/efi", false));
        assert!(is_reported_mount("overlay", "/", false));
        assert!(is_reported_mount("fuseblk", "/mnt/windows", false));
        assert!(!is_reported_mount(
            "overlay",
            "/var/lib/docker/overlay2/x/merged",
            false
        ));
        assert!(!is_reported_mount("tmpfs", "/tmp", false));
        assert!(!is_reported_mount("proc", "/proc", false));
        assert!(!is_reported_mount(
            "fuse.gvfsd-fuse",
            "/run/user/1000/gvfs",
            false
        ));
        assert!(!is_reported_mount("vfat", "/media/visitor/HOLIDAYS", false));
        assert!(!is_reported_mount("exfat", "/run/media/visitor/CV", false));
        assert!(!is_reported_mount("ext4", "/srv/data", true));
        assert!(is_reported_mount("ext4", "/mediacenter", false));
    }

    #[test]
    fn mac_addresses_are_validated() {
        assert_eq!(
            clean_mac("A4:BB:6D:01:02:03\n"),
            Some("a4:bb:6d:01:02:03".into())
        );
        assert_eq!(clean_mac("00:00:00:00:00:00"), None);
        assert_eq!(clean_mac(""), None);
        assert_eq!(
            clean_mac("80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:0b:0c"),
            None
        );
    }

    // The tests below read this machine. They check what any Linux host has, so that a
    // broken reader (wrong path, wrong unit, wrong filter) fails here and not in the field.

    #[test]
    fn inventory_describes_this_machine() {
        let inv = inventory(T0, "9.9.9", Some("BIB-042".into()), None);
        assert_eq!(inv.at, T0);
        assert_eq!(inv.agent_version, "9.9.9");
        assert_eq!(inv.asset_tag.as_deref(), Some("BIB-042"));
        assert!(!inv.hostname.is_empty() && inv.hostname != "unknown");
        assert!(
            inv.memory_total_bytes > 64 << 20,
            "{}",
            inv.memory_total_bytes
        );
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert!(inv.cpu_count as usize >= cpus, "{} < {cpus}", inv.cpu_count);
        assert!(!inv.cpu_model.is_empty() && inv.cpu_model != "unknown");
        assert!(!inv.kernel.is_empty() && inv.kernel != "unknown");
        let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(inv.kernel, release.trim());
        assert!(!inv.os.is_empty());
        for mac in &inv.mac_addresses {
            assert_eq!(clean_mac(mac).as_ref(), Some(mac), "{mac}");
        }
        assert!(!inv.disks.is_empty(), "no disk found in /sys/block");
        for disk in &inv.disks {
            assert!(disk.total_bytes >= 1 << 20, "{disk:?}");
            assert!(!["loop", "zram", "ram", "dm-"]
                .iter()
                .any(|p| disk.name.starts_with(p)));
            assert!(["SSD", "HDD", "unknown"].contains(&disk.kind.as_str()));
        }
        for value in [&inv.dmi_serial, &inv.dmi_vendor, &inv.dmi_product]
            .into_iter()
            .flatten()
        {
            assert_eq!(clean_dmi(value).as_ref(), Some(value));
        }
    }

    #[test]
    fn the_root_file_system_is_in_the_snapshot() {
        let mut collector = HealthCollector::new();
        let snap = collector.snapshot(T0, "9.9.9");
        assert_eq!(snap.at, T0);
        assert!(snap.memory_total_bytes > 0);
        assert!(snap.memory_used_bytes <= snap.memory_total_bytes);
        assert!(snap.swap_used_bytes <= snap.swap_total_bytes);
        assert!(snap.uptime_secs > 0);
        assert!(!snap.kernel.is_empty() && snap.kernel != "unknown");
        let root = snap.disks.iter().find(|d| d.mount_point == "/");
        let root = root.unwrap_or_else(|| panic!("no / in {:?}", snap.disks));
        assert!(root.total_bytes > 0 && root.available_bytes <= root.total_bytes);
        assert!(snap
            .disks
            .iter()
            .all(|d| d.file_system != "tmpfs" && d.file_system != "proc"));
        for t in &snap.temperatures {
            assert!(t.celsius.is_finite(), "{t:?}");
        }
    }

    #[test]
    fn cpu_use_is_measured_between_snapshots() {
        let mut collector = HealthCollector::new();
        let cpus = collector.system.cpus().len() as f32;
        // Too soon after `new` for new counters: this one repeats the figure since boot.
        let first = collector.snapshot(T0, "9.9.9");
        // Keep one core busy for the whole interval, so the machine is at least
        // 1/cpus busy whatever else runs.
        let deadline = std::time::Instant::now() + sysinfo::MINIMUM_CPU_UPDATE_INTERVAL * 3;
        let mut spin = 0u64;
        while std::time::Instant::now() < deadline {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let busy = collector.snapshot(T0.plus_secs(1), "9.9.9");
        assert!(
            busy.cpu_percent >= 50.0 / cpus && busy.cpu_percent <= 100.0,
            "{} % with one of {cpus} cores busy",
            busy.cpu_percent
        );
        assert_ne!(
            busy.cpu_percent, first.cpu_percent,
            "CPU use was not measured again"
        );
    }
}
