//! The device guard: input devices plugged in since the seat was last checked.
//!
//! Fraudsters have plugged keyboards with a keylogger inside into public computers. The
//! guard reads the kernel's list of input devices (`/sys/class/input/input*`: name,
//! `id/bustype|vendor|product`, `phys`, `capabilities/ev|key`) and compares it with the
//! list staff accepted the last time they checked the seat (`devices-checked.json` in the
//! state directory, written at the first start: the installation is the first check).
//! A device that can type (any key of the typing block: letters, digits, Enter,
//! modifiers) or that the guard cannot place (neither a pointer nor a set of media keys)
//! raises an alarm: the session machine refuses new sessions until staff accept the
//! devices (from the dashboard, or at the seat with the mediator PIN), and the device is
//! inhibited (`inhibited`, Linux 5.11+) so that what it types goes nowhere meanwhile.
//! A mouse or a headset's volume keys are let through.
//!
//! USB storage follows the site's policy ([`commune_protocol::schedule::UsbStorage`]):
//! refused, a stick's USB device is de-authorised (`authorized` = 0) at the guard's next
//! reading (every `[guard] poll_ms`, 1 s by default), and the kernel lets go of it; a
//! desktop quick enough could mount it in that second (a udev rule at plug time would
//! close the gap). A disk the system itself mounted (a computer booting from USB) is
//! never touched. Nothing identifying a visitor's own stick (serial, label, contents) is
//! read or kept.
//!
//! A device is known by what does not change when it is unplugged and plugged back in
//! the same socket: name, bus, vendor, product and physical path (not the `inputN`
//! number). The same keyboard moved to another socket is a new device, on purpose. And a
//! device that can type is also known by its kernel node (`inputN`) within one boot
//! (`/proc/sys/kernel/random/boot_id`): a keyboard unplugged and plugged back, even in
//! the same socket, is new, since that is how a keylogger that copies the keyboard's ids
//! is put between it and the computer. (One put there while the computer is off shows
//! only if its ids or socket differ: staff's check of the cable is the answer to that.)
//!
//! Bluetooth devices (bus 0005) are named by their owners ("Téléphone de …"): their name
//! is never read, and only one that can type letters raises the alarm (a headset's
//! remote control declares digits).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use commune_protocol::messages::CheckedBy;
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};

/// The file, in the state directory, of the devices staff accepted.
pub const CHECKED_FILE: &str = "devices-checked.json";

/// What an input device can do, as far as the guard is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// It can type letters.
    Keyboard,
    /// It can type digits, Enter or modifiers, but no letter.
    Keypad,
    /// A mouse, touchpad or touch screen that cannot type.
    Pointer,
    /// Keys outside the typing block only (volume, media, power).
    MediaKeys,
    /// Anything else.
    Other,
}

impl DeviceKind {
    /// Whether a new device of this kind raises the alarm (on Bluetooth, only a keyboard).
    pub fn raises_alarm(self, bluetooth: bool) -> bool {
        match self {
            DeviceKind::Keyboard => true,
            DeviceKind::Keypad | DeviceKind::Other => !bluetooth,
            DeviceKind::Pointer | DeviceKind::MediaKeys => false,
        }
    }

    /// French, for staff and the logs.
    pub fn french(self) -> &'static str {
        match self {
            DeviceKind::Keyboard => "clavier",
            DeviceKind::Keypad => "pavé numérique",
            DeviceKind::Pointer => "souris",
            DeviceKind::MediaKeys => "touches multimédia",
            DeviceKind::Other => "appareil d'entrée inconnu",
        }
    }
}

/// One input device the kernel lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDevice {
    /// Its stable identity (see the module's documentation).
    pub key: String,
    /// What it can do.
    pub kind: DeviceKind,
    /// Its name as the device gives it (a product name, never a visitor's data).
    pub name: String,
    /// `bus:vendor:product`, hexadecimal.
    pub ids: String,
    /// Its sysfs directory (`…/class/input/inputN`).
    pub sysfs: PathBuf,
    /// On Bluetooth (its name is not read).
    pub bluetooth: bool,
}

impl InputDevice {
    /// One line for staff: `clavier « name » (0003:046d:c31c)`.
    pub fn describe(&self) -> String {
        if self.bluetooth {
            return format!("{} Bluetooth ({})", self.kind.french(), self.ids);
        }
        format!("{} « {} » ({})", self.kind.french(), self.name, self.ids)
    }

    /// Whether it raises the alarm when it is new.
    pub fn raises_alarm(&self) -> bool {
        self.kind.raises_alarm(self.bluetooth)
    }

    /// Its kernel node, `inputN`.
    pub fn node(&self) -> String {
        self.sysfs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Whether `c` may be shown of a device's name: no control character, and no format
/// character (bidi overrides, zero-width) that would reorder or hide what staff read.
fn shown_char(c: char) -> bool {
    !c.is_control()
        && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}')
}

/// The typing block of the kernel's key codes: `KEY_ESC` (1) to `KEY_KPDOT` (83), which
/// holds every letter, digit, Enter, Tab, Backspace and modifier.
const TYPING_KEYS: std::ops::RangeInclusive<usize> = 1..=83;
/// The letters: `KEY_Q`..`KEY_P`, `KEY_A`..`KEY_L`, `KEY_Z`..`KEY_M`.
const LETTER_KEYS: [std::ops::RangeInclusive<usize>; 3] = [16..=25, 30..=38, 44..=50];
/// `BTN_LEFT`, `BTN_TOUCH`: a pointer's buttons.
const POINTER_BUTTONS: [usize; 2] = [0x110, 0x14a];
/// `EV_KEY`, `EV_REL`, `EV_ABS`.
const EV_KEY: usize = 1;
const EV_REL: usize = 2;
const EV_ABS: usize = 3;

/// A kernel capability bitmap as sysfs prints it: hexadecimal words, most significant
/// first, each the width of a `long` (64 bits here), separated by spaces.
fn bitmap(text: &str) -> Vec<bool> {
    let mut bits = Vec::new();
    for word in text.split_whitespace().rev() {
        let value = u64::from_str_radix(word, 16).unwrap_or(0);
        bits.extend((0..64).map(|i| value >> i & 1 == 1));
    }
    bits
}

fn has(bits: &[bool], bit: usize) -> bool {
    bits.get(bit).copied().unwrap_or(false)
}

/// What a device with these `ev` and `key` bitmaps is.
pub fn classify(ev: &str, key: &str) -> DeviceKind {
    let ev = bitmap(ev);
    let key = bitmap(key);
    if has(&ev, EV_KEY) && LETTER_KEYS.iter().cloned().flatten().any(|k| has(&key, k)) {
        return DeviceKind::Keyboard;
    }
    if has(&ev, EV_KEY) && TYPING_KEYS.clone().any(|k| has(&key, k)) {
        return DeviceKind::Keypad;
    }
    let pointer =
        (has(&ev, EV_REL) || has(&ev, EV_ABS)) && POINTER_BUTTONS.iter().any(|b| has(&key, *b));
    if pointer {
        return DeviceKind::Pointer;
    }
    if has(&ev, EV_KEY) && !has(&ev, EV_REL) && !has(&ev, EV_ABS) && key.iter().any(|b| *b) {
        return DeviceKind::MediaKeys;
    }
    DeviceKind::Other
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The input devices under `sys` (normally `/sys`), in a stable order. A directory that
/// vanishes while it is read (a device unplugged) is skipped.
pub fn scan_input(sys: &Path) -> Vec<InputDevice> {
    let Ok(entries) = std::fs::read_dir(sys.join("class/input")) else {
        return Vec::new();
    };
    let mut devices: Vec<InputDevice> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("input"))
        .filter_map(|e| {
            let dir = e.path();
            if !dir.join("name").exists() {
                return None;
            }
            let id = |f: &str| read(&dir.join("id").join(f));
            let bluetooth = id("bustype") == "0005";
            // A Bluetooth device's name is its owner's choice: not read.
            let name = if bluetooth {
                String::new()
            } else {
                read(&dir.join("name"))
            };
            let ids = format!("{}:{}:{}", id("bustype"), id("vendor"), id("product"));
            let phys = if bluetooth {
                String::new()
            } else {
                read(&dir.join("phys"))
            };
            let kind = classify(
                &read(&dir.join("capabilities/ev")),
                &read(&dir.join("capabilities/key")),
            );
            Some(InputDevice {
                key: format!("{ids}|{phys}|{name}"),
                kind,
                name: name.chars().filter(|c| shown_char(*c)).take(80).collect(),
                ids,
                sysfs: dir,
                bluetooth,
            })
        })
        .collect();
    devices.sort_by(|a, b| a.sysfs.cmp(&b.sysfs));
    devices
}

/// The `major:minor` of every file system the system mounted outside the places removable
/// media go (`/media`, `/run/media`), from the kernel's mount table.
fn system_mounts() -> std::collections::HashSet<String> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let device = fields.nth(2)?;
            let point = fields.nth(1)?;
            let removable = point.starts_with("/media/") || point.starts_with("/run/media/");
            (!removable).then(|| device.to_string())
        })
        .collect()
}

/// Whether the disk at `disk` (a directory of `block/`) or one of its partitions is
/// mounted by the system: a computer booting from a USB disk keeps it.
fn mounted_by_system(disk: &Path, mounts: &std::collections::HashSet<String>) -> bool {
    let dev = |dir: &Path| read(&dir.join("dev"));
    if mounts.contains(&dev(disk)) {
        return true;
    }
    std::fs::read_dir(disk)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("partition").exists())
        .any(|e| mounts.contains(&dev(&e.path())))
}

/// The USB disks under `sys`: each disk of `block/` whose device sits on a USB bus, as
/// its directory in `block/` and the directory of its USB device (the one with
/// `authorized`), but a disk the system itself mounted. Only paths and device numbers are
/// read: never a serial, a label or the contents.
pub fn usb_disks(sys: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(sys.join("block")) else {
        return Vec::new();
    };
    let mounts = system_mounts();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        if mounted_by_system(&entry.path(), &mounts) {
            continue;
        }
        let Ok(device) = std::fs::canonicalize(entry.path().join("device")) else {
            continue;
        };
        if !device
            .components()
            .any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with("usb")))
        {
            continue;
        }
        // The nearest ancestor that is a USB device (it has `authorized` and `idVendor`).
        let usb = device
            .ancestors()
            .find(|a| a.join("authorized").exists() && a.join("idVendor").exists());
        if let Some(usb) = usb {
            found.push((entry.path(), usb.to_path_buf()));
        }
    }
    found.sort();
    found
}

/// USB storage under `sys`, as the directories of the USB devices (see [`usb_disks`]).
pub fn scan_usb_storage(sys: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = usb_disks(sys).into_iter().map(|(_, usb)| usb).collect();
    found.sort();
    found.dedup();
    found
}

/// The devices staff accepted, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// When.
    pub at: UtcMillis,
    /// Who.
    pub by: CheckedBy,
    /// The accepted devices' identities, with how many of each.
    pub devices: BTreeMap<String, u32>,
    /// The boot the nodes below belong to.
    #[serde(default)]
    pub boot_id: String,
    /// The kernel nodes (`inputN`) of the accepted devices that raise the alarm, in this
    /// boot: one that leaves and comes back under a new node is new.
    #[serde(default)]
    pub nodes: Vec<String>,
}

/// This boot's id (a new one at every boot).
fn boot_id() -> String {
    read(Path::new("/proc/sys/kernel/random/boot_id"))
}

fn alarm_nodes(devices: &[InputDevice]) -> Vec<String> {
    let mut nodes: Vec<String> = devices
        .iter()
        .filter(|d| d.raises_alarm())
        .map(InputDevice::node)
        .collect();
    nodes.sort();
    nodes
}

/// The guard's memory: what was accepted, kept on disk.
#[derive(Debug)]
pub struct Guard {
    sys: PathBuf,
    file: PathBuf,
    checked: Checked,
}

fn count(devices: &[InputDevice]) -> BTreeMap<String, u32> {
    let mut map = BTreeMap::new();
    for d in devices {
        *map.entry(d.key.clone()).or_insert(0) += 1;
    }
    map
}

impl Guard {
    /// The guard of `state_dir`, reading devices under `sys`. At the very first start the
    /// devices present are accepted (the installation is the first check).
    pub fn open(sys: &Path, state_dir: &Path, now: UtcMillis) -> std::io::Result<Guard> {
        let file = state_dir.join(CHECKED_FILE);
        let boot = boot_id();
        let mut checked: Checked = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", file.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let current = scan_input(sys);
                let checked = Checked {
                    at: now,
                    by: CheckedBy::Installation,
                    devices: count(&current),
                    boot_id: boot.clone(),
                    nodes: alarm_nodes(&current),
                };
                write_private(&file, &serde_json::to_vec_pretty(&checked)?)?;
                checked
            }
            Err(e) => return Err(e),
        };
        let mut guard = Guard {
            sys: sys.to_path_buf(),
            file,
            checked: checked.clone(),
        };
        if checked.boot_id != boot {
            // A new boot renumbers the nodes: those of the accepted devices present now
            // are this boot's (the identities still decide what is new).
            let current = scan_input(sys);
            let mut left = checked.devices.clone();
            let accepted: Vec<InputDevice> = current
                .iter()
                .filter(|d| match left.get_mut(&d.key) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    _ => false,
                })
                .cloned()
                .collect();
            checked.boot_id = boot;
            checked.nodes = alarm_nodes(&accepted);
            write_private(&guard.file, &serde_json::to_vec_pretty(&checked)?)?;
            guard.checked = checked;
        }
        Ok(guard)
    }

    /// Where it reads the kernel's devices.
    pub fn sys(&self) -> &Path {
        &self.sys
    }

    /// The last check.
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// The input devices now.
    pub fn scan(&self) -> Vec<InputDevice> {
        scan_input(&self.sys)
    }

    /// USB storage now.
    pub fn usb_storage(&self) -> Vec<PathBuf> {
        scan_usb_storage(&self.sys)
    }

    /// The devices of `current` that were not there at the last check (each identity
    /// counted: a second identical keyboard is new).
    /// A device that can type is also new under a node the check did not see (see the
    /// module's documentation).
    pub fn new_devices<'a>(&self, current: &'a [InputDevice]) -> Vec<&'a InputDevice> {
        let mut left = self.checked.devices.clone();
        current
            .iter()
            .filter(|d| {
                if d.raises_alarm() && !self.checked.nodes.contains(&d.node()) {
                    return true;
                }
                match left.get_mut(&d.key) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        false
                    }
                    _ => true,
                }
            })
            .collect()
    }

    /// The new devices that raise the alarm.
    pub fn alarming<'a>(&self, current: &'a [InputDevice]) -> Vec<&'a InputDevice> {
        self.new_devices(current)
            .into_iter()
            .filter(|d| d.raises_alarm())
            .collect()
    }

    /// Staff accepted `current`: it becomes the reference, on disk before this returns.
    /// Returns how many of them were new.
    pub fn accept(
        &mut self,
        current: &[InputDevice],
        by: CheckedBy,
        now: UtcMillis,
    ) -> std::io::Result<u32> {
        let new = u32::try_from(self.new_devices(current).len()).unwrap_or(u32::MAX);
        let checked = Checked {
            at: now,
            by,
            devices: count(current),
            boot_id: boot_id(),
            nodes: alarm_nodes(current),
        };
        write_private(&self.file, &serde_json::to_vec_pretty(&checked)?)?;
        self.checked = checked;
        Ok(new)
    }
}

/// Stops (or lets again) what a device types reach anyone: `inhibited` (Linux 5.11+).
/// Best effort: an older kernel has no such file, and the seat is locked all the same.
pub fn inhibit(device: &InputDevice, on: bool) -> bool {
    std::fs::write(device.sysfs.join("inhibited"), if on { "1" } else { "0" }).is_ok()
}

/// Switches a USB device off (`authorized` = 0): the kernel lets go of it.
pub fn deauthorize(usb_device: &Path) -> bool {
    std::fs::write(usb_device.join("authorized"), "0").is_ok()
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("json.new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Test helpers: a sysfs-shaped tree of input devices, for machines whose kernel cannot
/// make a virtual one (no `uinput`), and the kernel's own bitmaps of common devices.
pub mod fake {
    use std::path::Path;

    /// `capabilities/ev` and `capabilities/key` of a USB keyboard (as a real one prints).
    pub const KEYBOARD: (&str, &str) = (
        "120013",
        "1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe",
    );
    /// A USB mouse.
    pub const MOUSE: (&str, &str) = ("17", "1f0000 0 0 0 0");
    /// A headset's volume keys (consumer control).
    pub const HEADSET: (&str, &str) = ("13", "10000000000 1c000000000000 0");

    /// Writes device `inputN` under `sys/class/input` with the given name, ids and
    /// capabilities (and a writable `inhibited`).
    pub fn plant(
        sys: &Path,
        n: u32,
        name: &str,
        ids: (&str, &str, &str),
        phys: &str,
        caps: (&str, &str),
    ) -> std::io::Result<()> {
        let dir = sys.join(format!("class/input/input{n}"));
        std::fs::create_dir_all(dir.join("id"))?;
        std::fs::create_dir_all(dir.join("capabilities"))?;
        std::fs::write(dir.join("name"), format!("{name}\n"))?;
        std::fs::write(dir.join("phys"), format!("{phys}\n"))?;
        std::fs::write(dir.join("id/bustype"), ids.0)?;
        std::fs::write(dir.join("id/vendor"), ids.1)?;
        std::fs::write(dir.join("id/product"), ids.2)?;
        std::fs::write(dir.join("capabilities/ev"), caps.0)?;
        std::fs::write(dir.join("capabilities/key"), caps.1)?;
        std::fs::write(dir.join("inhibited"), "0\n")?;
        Ok(())
    }

    /// Unplugs device `inputN`.
    pub fn unplug(sys: &Path, n: u32) -> std::io::Result<()> {
        std::fs::remove_dir_all(sys.join(format!("class/input/input{n}")))
    }
}

#[cfg(test)]
mod tests {
    use super::fake::*;
    use super::*;

    #[test]
    fn a_usb_stick_is_found_by_its_bus_and_switched_off_without_reading_it() {
        let sys = tempfile::tempdir().unwrap();
        let root = sys.path();
        // As the kernel lays it out: /sys/block/sdb/device → …/usb1/1-2/1-2:1.0/host6/…
        let usb = root.join("devices/pci0000:00/0000:00:14.0/usb1/1-2");
        let disk = usb.join("1-2:1.0/host6/target6:0:0/6:0:0:0");
        std::fs::create_dir_all(&disk).unwrap();
        std::fs::write(usb.join("authorized"), "1").unwrap();
        std::fs::write(usb.join("idVendor"), "0781").unwrap();
        // The interface has `authorized` too, but no `idVendor`: not the device.
        std::fs::write(usb.join("1-2:1.0/authorized"), "1").unwrap();
        // The computer's own SATA disk.
        let sata = root.join("devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0");
        std::fs::create_dir_all(&sata).unwrap();
        std::fs::create_dir_all(root.join("block/sda")).unwrap();
        std::fs::create_dir_all(root.join("block/sdb")).unwrap();
        std::os::unix::fs::symlink(&sata, root.join("block/sda/device")).unwrap();
        std::os::unix::fs::symlink(&disk, root.join("block/sdb/device")).unwrap();
        // A loop device has no `device`.
        std::fs::create_dir_all(root.join("block/loop0")).unwrap();

        let found = scan_usb_storage(root);
        assert_eq!(found, vec![std::fs::canonicalize(&usb).unwrap()]);

        // A USB disk the system runs from (its partition holds `/`) is never switched off.
        let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root_dev = table
            .lines()
            .find(|l| l.split(' ').nth(4) == Some("/"))
            .and_then(|l| l.split(' ').nth(2))
            .unwrap()
            .to_string();
        std::fs::create_dir_all(root.join("block/sdb/sdb1")).unwrap();
        std::fs::write(root.join("block/sdb/sdb1/partition"), "1").unwrap();
        std::fs::write(root.join("block/sdb/sdb1/dev"), &root_dev).unwrap();
        assert!(scan_usb_storage(root).is_empty());
        std::fs::remove_dir_all(root.join("block/sdb/sdb1")).unwrap();
        let found = scan_usb_storage(root);
        assert!(deauthorize(&found[0]));
        assert_eq!(read(&usb.join("authorized")), "0");
    }

    #[test]
    fn real_bitmaps_are_told_apart() {
        assert_eq!(classify(KEYBOARD.0, KEYBOARD.1), DeviceKind::Keyboard);
        assert_eq!(classify(MOUSE.0, MOUSE.1), DeviceKind::Pointer);
        assert_eq!(classify(HEADSET.0, HEADSET.1), DeviceKind::MediaKeys);
        // The power button: KEY_POWER (116) only.
        assert_eq!(classify("3", "10000000000000 0"), DeviceKind::MediaKeys);
        // A mouse that can also type (a "gaming" mouse, or a rubber duck) is a keyboard.
        assert_eq!(classify("17", "1f0000 0 0 0 40000"), DeviceKind::Keyboard);
        // Nothing readable: unknown.
        assert_eq!(classify("", ""), DeviceKind::Other);
        assert_eq!(classify("9", "0"), DeviceKind::Other);
    }

    #[test]
    fn a_keyboard_plugged_after_the_check_is_new_and_a_mouse_is_let_through() {
        let sys = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let usb = ("0003", "046d", "c31c");
        plant(
            sys.path(),
            0,
            "Seat keyboard",
            usb,
            "usb-0000:00:14.0-1/input0",
            KEYBOARD,
        )
        .unwrap();
        let mut guard = Guard::open(sys.path(), state.path(), UtcMillis(1)).unwrap();
        assert_eq!(guard.checked().by, CheckedBy::Installation);
        assert!(guard.alarming(&guard.scan()).is_empty());

        // A mouse and a headset: new, but no alarm.
        plant(
            sys.path(),
            8,
            "USB Mouse",
            ("0003", "1a2c", "0042"),
            "usb-2/input0",
            MOUSE,
        )
        .unwrap();
        plant(
            sys.path(),
            9,
            "Headset",
            ("0003", "0d8c", "0014"),
            "usb-3/input3",
            HEADSET,
        )
        .unwrap();
        let now = guard.scan();
        assert_eq!(guard.new_devices(&now).len(), 2);
        assert!(guard.alarming(&now).is_empty());

        // A second keyboard (a keylogger between the keyboard and the computer shows as
        // one): the alarm, naming it.
        plant(
            sys.path(),
            10,
            "Seat keyboard",
            usb,
            "usb-0000:00:14.0-2/input0",
            KEYBOARD,
        )
        .unwrap();
        let now = guard.scan();
        let alarming = guard.alarming(&now);
        assert_eq!(alarming.len(), 1);
        assert_eq!(
            alarming[0].describe(),
            "clavier « Seat keyboard » (0003:046d:c31c)"
        );
        assert!(inhibit(alarming[0], true));
        assert_eq!(read(&alarming[0].sysfs.join("inhibited")), "1");

        // Staff accept: nothing is new any more, and the check survives a restart.
        assert_eq!(
            guard.accept(&now, CheckedBy::Staff, UtcMillis(2)).unwrap(),
            3
        );
        assert!(guard.new_devices(&guard.scan()).is_empty());
        let again = Guard::open(sys.path(), state.path(), UtcMillis(3)).unwrap();
        assert_eq!(again.checked().at, UtcMillis(2));
        assert_eq!(again.checked().by, CheckedBy::Staff);
        assert!(again.new_devices(&again.scan()).is_empty());
    }

    #[test]
    fn a_keyboard_unplugged_and_plugged_back_is_new_but_a_mouse_is_not() {
        let sys = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let usb = ("0003", "046d", "c31c");
        let socket = "usb-0000:00:14.0-1/input0";
        plant(sys.path(), 0, "Seat keyboard", usb, socket, KEYBOARD).unwrap();
        plant(
            sys.path(),
            1,
            "Seat mouse",
            ("0003", "1a2c", "0042"),
            "usb-2/input0",
            MOUSE,
        )
        .unwrap();
        let mut guard = Guard::open(sys.path(), state.path(), UtcMillis(1)).unwrap();
        // The mouse comes back under another node: the same mouse.
        unplug(sys.path(), 1).unwrap();
        plant(
            sys.path(),
            5,
            "Seat mouse",
            ("0003", "1a2c", "0042"),
            "usb-2/input0",
            MOUSE,
        )
        .unwrap();
        assert!(guard.new_devices(&guard.scan()).is_empty());
        // The keyboard comes back in the same socket with the same ids (a keylogger that
        // copies them sits between it and the computer): new.
        unplug(sys.path(), 0).unwrap();
        plant(sys.path(), 6, "Seat keyboard", usb, socket, KEYBOARD).unwrap();
        let now = guard.scan();
        assert_eq!(guard.alarming(&now).len(), 1);
        // Accepted, it is known under its new node, after a restart of the agent too.
        guard.accept(&now, CheckedBy::Staff, UtcMillis(2)).unwrap();
        assert!(guard.alarming(&guard.scan()).is_empty());
        let again = Guard::open(sys.path(), state.path(), UtcMillis(3)).unwrap();
        assert!(again.alarming(&again.scan()).is_empty());
    }

    #[test]
    fn a_bluetooth_device_is_not_named_and_only_a_keyboard_of_letters_raises_the_alarm() {
        let sys = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let guard = Guard::open(sys.path(), state.path(), UtcMillis(1)).unwrap();
        // A phone's remote control (AVRCP): digits and Enter, no letter.
        plant(
            sys.path(),
            3,
            "Téléphone de Fatima (AVRCP)",
            ("0005", "004c", "0001"),
            "aa:bb",
            ("100013", "1000000000 10000ffe"),
        )
        .unwrap();
        let now = guard.scan();
        assert_eq!(now[0].kind, DeviceKind::Keypad);
        assert!(guard.alarming(&now).is_empty());
        assert!(
            !now[0].describe().contains("Fatima"),
            "{}",
            now[0].describe()
        );
        // A Bluetooth keyboard: the alarm, without a name.
        plant(
            sys.path(),
            4,
            "Clavier de Fatima",
            ("0005", "05ac", "0255"),
            "aa:cc",
            KEYBOARD,
        )
        .unwrap();
        let now = guard.scan();
        let alarming = guard.alarming(&now);
        assert_eq!(alarming.len(), 1);
        assert_eq!(alarming[0].describe(), "clavier Bluetooth (0005:05ac:0255)");
        // A USB device's name loses what would reorder or hide text.
        plant(
            sys.path(),
            5,
            "Kbd\u{202E}draobyek",
            ("0003", "1111", "2222"),
            "usb-9/input0",
            KEYBOARD,
        )
        .unwrap();
        let named = guard
            .scan()
            .into_iter()
            .find(|d| d.ids == "0003:1111:2222")
            .unwrap();
        assert_eq!(named.name, "Kbddraobyek");
    }
}
