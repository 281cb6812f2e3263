//! Wake-on-LAN: the magic packet, sent by the controller or relayed by a seat that is
//! awake on the sleeping seat's network (`CommandAction::WakeNeighbours`).

/// The most MAC addresses one relay command names.
pub const MAX_WAKE_MACS: usize = 16;

/// A Wake-on-LAN magic packet for `mac` (`aa:bb:cc:dd:ee:ff` or with `-`): six 0xFF bytes,
/// then the address sixteen times; `None` for anything else (or the all-zero address).
pub fn magic_packet(mac: &str) -> Option<[u8; 102]> {
    let bytes: Vec<u8> = mac
        .split([':', '-'])
        .map(|part| {
            u8::from_str_radix(part, 16)
                .ok()
                .filter(|_| part.len() == 2)
        })
        .collect::<Option<_>>()?;
    let mac: [u8; 6] = bytes.try_into().ok()?;
    if mac == [0; 6] {
        return None;
    }
    let mut packet = [0xFF_u8; 102];
    for i in 0..16 {
        packet[6 + i * 6..12 + i * 6].copy_from_slice(&mac);
    }
    Some(packet)
}
