//! A virtual keyboard made through the kernel's `uinput` (`/dev/uinput`, root): a real
//! input device in `/sys/class/input`, for the device guard's tests on kernels that have
//! it (`CONFIG_INPUT_UINPUT`).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

// <linux/uinput.h>: _IOW('U', 100, int), _IOW('U', 101, int), _IO('U', 1), _IO('U', 2),
// _IOW('U', 3, struct uinput_setup).
const UI_SET_EVBIT: libc::c_ulong = 0x4004_5564;
const UI_SET_KEYBIT: libc::c_ulong = 0x4004_5565;
const UI_DEV_CREATE: libc::c_ulong = 0x5501;
const UI_DEV_DESTROY: libc::c_ulong = 0x5502;
const UI_DEV_SETUP: libc::c_ulong = 0x405c_5503;
const EV_KEY: libc::c_int = 1;
const BUS_USB: u16 = 0x03;

#[repr(C)]
struct UinputSetup {
    bustype: u16,
    vendor: u16,
    product: u16,
    version: u16,
    name: [u8; 80],
    ff_effects_max: u32,
}

/// A virtual USB keyboard; destroyed when dropped.
pub struct VirtualKeyboard {
    file: File,
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl VirtualKeyboard {
    /// Creates a keyboard named `name` with the typing block's keys (1 to 83).
    pub fn create(name: &str) -> io::Result<VirtualKeyboard> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/uinput")?;
        let fd = file.as_raw_fd();
        let mut setup = UinputSetup {
            bustype: BUS_USB,
            vendor: 0x1234,
            product: 0x5678,
            version: 1,
            name: [0; 80],
            ff_effects_max: 0,
        };
        let bytes = name.as_bytes();
        let n = bytes.len().min(79);
        setup.name[..n].copy_from_slice(&bytes[..n]);
        // SAFETY: ioctls on an open uinput descriptor with the arguments the header gives.
        unsafe {
            check(libc::ioctl(fd, UI_SET_EVBIT, EV_KEY))?;
            for key in 1..=83 {
                check(libc::ioctl(fd, UI_SET_KEYBIT, key as libc::c_int))?;
            }
            check(libc::ioctl(fd, UI_DEV_SETUP, &setup as *const UinputSetup))?;
            check(libc::ioctl(fd, UI_DEV_CREATE))?;
        }
        // udev and sysfs see the device within a moment.
        std::thread::sleep(std::time::Duration::from_millis(300));
        Ok(VirtualKeyboard { file })
    }
}

impl Drop for VirtualKeyboard {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe {
            libc::ioctl(self.file.as_raw_fd(), UI_DEV_DESTROY);
        }
    }
}
