//! Health snapshots and inventory. Nothing here describes what a visitor did.

use serde::{Deserialize, Serialize};

use crate::time::UtcMillis;

/// A periodic snapshot of the computer's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HealthSnapshot {
    /// When it was taken.
    pub at: UtcMillis,
    /// Global CPU use, percent of all cores.
    pub cpu_percent: f32,
    /// Load averages over 1, 5 and 15 minutes.
    #[serde(default)]
    pub load_average: [f64; 3],
    /// Memory in use, bytes.
    pub memory_used_bytes: u64,
    /// Memory installed, bytes.
    pub memory_total_bytes: u64,
    /// Swap in use, bytes.
    pub swap_used_bytes: u64,
    /// Swap configured, bytes (0: no swap, which the wipe report relies on).
    pub swap_total_bytes: u64,
    /// Mounted disks.
    #[serde(default)]
    pub disks: Vec<DiskUsage>,
    /// Temperature sensors, when the hardware exposes any.
    #[serde(default)]
    pub temperatures: Vec<Temperature>,
    /// Seconds since boot.
    pub uptime_secs: u64,
    /// OS name and version.
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// Agent version.
    pub agent_version: String,
}

/// Usage of one mounted file system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct DiskUsage {
    /// Mount point.
    pub mount_point: String,
    /// File system type.
    pub file_system: String,
    /// Capacity, bytes.
    pub total_bytes: u64,
    /// Available, bytes.
    pub available_bytes: u64,
}

/// One temperature sensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Temperature {
    /// Sensor label.
    pub label: String,
    /// Degrees Celsius.
    pub celsius: f32,
}

/// What the computer is: for the FEDER inventory and for IT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Inventory {
    /// When it was read.
    pub at: UtcMillis,
    /// Host name.
    pub hostname: String,
    /// Serial number from DMI, when readable.
    #[serde(default)]
    pub dmi_serial: Option<String>,
    /// Manufacturer from DMI.
    #[serde(default)]
    pub dmi_vendor: Option<String>,
    /// Product name from DMI.
    #[serde(default)]
    pub dmi_product: Option<String>,
    /// MAC addresses of physical interfaces.
    #[serde(default)]
    pub mac_addresses: Vec<String>,
    /// CPU model.
    pub cpu_model: String,
    /// Logical CPU count.
    pub cpu_count: u32,
    /// Memory installed, bytes.
    pub memory_total_bytes: u64,
    /// Disks.
    #[serde(default)]
    pub disks: Vec<DiskInfo>,
    /// Asset tag from the agent's configuration (the city's label on the computer).
    #[serde(default)]
    pub asset_tag: Option<String>,
    /// Funding line from the agent's configuration (e.g. a FEDER operation number).
    #[serde(default)]
    pub funding_line: Option<String>,
    /// OS name and version.
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// Agent version.
    pub agent_version: String,
}

/// One disk of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct DiskInfo {
    /// Device or volume name.
    pub name: String,
    /// Kind (SSD, HDD, unknown).
    pub kind: String,
    /// Capacity, bytes.
    pub total_bytes: u64,
}
